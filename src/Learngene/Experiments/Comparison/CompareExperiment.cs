using System.Text.Json;
using Learngene.Data;
using Learngene.IO;
using Learngene.Methods;
using Learngene.Models;
using Learngene.Reporting;
using Learngene.Runs;
using Learngene.Training;
using TorchSharp;

namespace Learngene.Experiments.Comparison;

/// <summary>The comparison of the learngene methods (docs/methods/tleg.md, sws.md) and the initialization baselines (initializers.md): one teacher;
/// the pre-trained artefacts every method asks for (its learngene, the family's ancestry, one model per
/// depth), all trained by <see cref="ComparisonPretrainer"/> with the same distillation, images and epochs;
/// then, for each task, method, depth and seed, a descendant initialized by the method (in the family's
/// input shape) and trained E epochs with the same recipe, data and test images. The reference baseline
/// also trains longer on the source task: the curve of the training-cost factor. Every training is a
/// cached cell: a resumed or extended run (more methods, seeds) computes only what is missing.</summary>
public sealed class CompareExperiment(ComparePreset preset, IReadOnlyList<string> methods, int seeds, string runDir, DataCache data, Action<string> log)
{
    public const string ResultsName = ExperimentFolder.ResultsName;

    /// <summary>Every registered method, learngene methods first.</summary>
    public static string[] AllMethods => Contenders.Names;

    readonly CellStore cells = new(runDir);
    readonly int[] seedList = Enumerable.Range(preset.Seed, seeds).ToArray();

    /// <summary>The settings every pre-trained artefact (learngene, ancestry, same-size model) is trained
    /// with: the learngene authors' soft distillation (KD weight 1, T = 1) and the preset's budget.</summary>
    public static TrainOptions PretrainRecipe(ComparePreset p) => Distillation.Authors(p.Recipe with { Epochs = p.AuxiliaryEpochs, Seed = p.Seed });

    public CompareResults Run(string? teacherFile = null)
    {
        if (seeds < 1) throw new LearngeneException($"seeds must be at least 1 (got {seeds})", setting: "seeds");
        var contenders = methods.Select(m => Contenders.Find(m, preset.InitializerSettings())).ToList();
        if (preset.Transfer == "" && contenders.Any(c => !c.MeasuredOn("source")))
            throw new LearngeneException($"{string.Join(", ", contenders.Where(c => !c.MeasuredOn("source")).Select(c => c.Name))} is measured on the transfer task, and this comparison has none", setting: "transfer");
        foreach (var c in contenders.Where(c => preset.Depths.Max() > c.MaxDepth(preset.AuxiliaryDepth)))
            throw new LearngeneException($"{c.Name} makes models no deeper than its ancestry (depth {preset.AuxiliaryDepth}); drop depths above it or the method", setting: "depths");
        preset.WeightSelection.Validate();
        GuardPreset();

        var teacher = teacherFile is not null
            ? cells.Given("teacher", teacherFile)
            : cells.GetOrCompute("teacher", dir => cells.Train(dir, TeacherSpec(preset), data, "source", "teacher", 0), log);
        teacher = cells.Need(teacher); // every later cell distils from it

        var pretrainer = new ComparisonPretrainer(preset, cells, data, cells.Resolve(teacher.ModelPath), log);
        var artefacts = contenders.ToDictionary(c => c.Name, c => c.Pretrain(pretrainer));

        var results = new List<CellResult>();
        if (preset.LongEpochs > 0 && methods.Contains(Contenders.Reference))
        {
            var reference = Contenders.Find(Contenders.Reference);
            foreach (int depth in preset.Depths)
                foreach (int seed in seedList)
                {
                    results.Add(DescendantCell("source", reference, Contenders.LongRun, depth, seed, preset.LongEpochs, [], null));
                    if (preset.FloorEpochs > 0 && preset.FloorEpochs != preset.LongEpochs)
                        results.Add(DescendantCell("source", reference, Contenders.FloorRun, depth, seed, preset.FloorEpochs, [], null));
                }
        }

        var shape = SourceShape();
        var scores = contenders.Where(c => c.ScoresMeaning is not null).ToDictionary(c => c.Name, c => ReadScores(ScoresPath(c.Name)));
        foreach (var task in preset.Transfer == "" ? ["source"] : new[] { "source", "transfer" })
        {
            using var contexts = new InitContexts(task, preset, shape.ImageSize, shape.Channels);
            foreach (var c in contenders.Where(c => c.MeasuredOn(task)))
                foreach (int depth in preset.Depths)
                    foreach (int seed in seedList)
                        results.Add(DescendantCell(task, c, c.Name, depth, seed, preset.Epochs, artefacts[c.Name], contexts));
            foreach (var (name, byTask) in scores)
                if (contexts.Scores(name) is { } s)
                {
                    byTask[task] = s; // computed with the task's first new descendant; kept on disk for cached runs
                    AtomicFile.WriteAllText(ScoresPath(name), JsonSerializer.Serialize(byTask, ModelConfig.Json));
                }
        }

        cells.EndOfWorkerPass();
        var costs = new CompareCosts(preset, pretrainer.Family with { ImageSize = shape.ImageSize, Channels = shape.Channels, Classes = shape.Classes }, cells, teacher);
        var methodCosts = contenders.ToDictionary(c => c.Name, c => costs.Of(c, artefacts[c.Name]));
        var family = methodCosts.GetValueOrDefault(Contenders.FamilyReference) ?? costs.Of(Contenders.Find(Contenders.FamilyReference), []);
        var stored = methodCosts.ToDictionary(kv => kv.Key, kv => kv.Value.StoredParameters);
        stored.TryAdd(Contenders.FamilyReference, family.StoredParameters); // the ratio's reference, run or not
        var all = new CompareResults
        {
            Preset = preset, Methods = methods.ToArray(), Seeds = seedList, SourceClasses = shape.Classes, Teacher = teacher,
            Learngenes = contenders.Where(c => c.IsLearngene).ToDictionary(c => c.Name, c => pretrainer.Cells[artefacts[c.Name][0].Name]),
            Ancestry = pretrainer.AncestryCell, Pretrained = pretrainer.SameSizeCells, StoredParameters = stored,
            PretrainImages = methodCosts.ToDictionary(kv => kv.Key, kv => kv.Value.PretrainImages),
            PretrainFlops = methodCosts.ToDictionary(kv => kv.Key, kv => kv.Value.PretrainFlops),
            InitializerScores = scores.Where(kv => kv.Value.Count > 0).ToDictionary(), Cells = results,
            ComputeSeconds = results.Sum(c => c.Seconds) + pretrainer.Cells.Values.Sum(c => c.Seconds) + teacher.Seconds,
            WallSeconds = cells.SaveWallSeconds(), Finished = DateTime.UtcNow,
        };
        ExperimentFolder.SaveResults(runDir, all);
        return all;
    }

    /// <summary>The teacher every pre-trained artefact distils from, trained on the source task.</summary>
    public static RunSpec TeacherSpec(ComparePreset p) => new()
    {
        Data = p.Source, Model = ModelPresets.Registry.Find(p.TeacherModel).Config with { ImageSize = 0 },
        Options = p.Recipe with { Epochs = p.TeacherEpochs, Seed = p.Seed },
        TrainLimit = p.TeacherTrainLimit, TestLimit = p.TestLimit, TestSeed = p.Seed,
    };

    /// <summary>A descendant's training on its task: the preset's recipe for E epochs, its images and test images.</summary>
    public static RunSpec DescendantSpec(ComparePreset p, string task, int epochs, int seed) => new()
    {
        Data = task == "source" ? p.Source : p.Transfer, Options = p.Recipe with { Epochs = epochs, Seed = seed },
        TrainLimit = p.TrainLimit, TestLimit = p.TestLimit, TestSeed = p.Seed,
    };

    /// <summary>A descendant's architecture: the family's at its depth, in the source's input shape whatever the
    /// task's images are (training resizes them to it). Data-free initializers (scratch, mimetic) draw the patch
    /// embedding for the task's channels; what comes from a source model keeps its channels and training adapts
    /// it, the same way for every method.</summary>
    public static VitConfig DescendantArchitecture(ComparePreset p, Contender contender, int depth, int imageSize, int sourceChannels, int taskChannels, int taskClasses) =>
        ModelPresets.Registry.Find(p.Family).Vit with
        {
            Pooling = "avg",
            Depth = depth,
            ImageSize = imageSize,
            Channels = contender.DataFree ? taskChannels : sourceChannels,
            Classes = taskClasses,
        };

    /// <summary>The family's input: the source data's image size and channels, which every learngene,
    /// the ancestry and the teacher were trained on. Every descendant of every method starts in this
    /// shape and trains on its task's data resized to it.</summary>
    (int ImageSize, int Channels, int Classes) SourceShape()
    {
        var source = data.TaskData(preset.Source, preset.TrainLimit, preset.Seed);
        return (source.ImageSize, source.Channels, source.Classes);
    }

    string ScoresPath(string method) => Path.Combine(runDir, $"{method}-scores.json");

    static Dictionary<string, double[]> ReadScores(string path)
    {
        if (!File.Exists(path)) return [];
        try { return JsonSerializer.Deserialize<Dictionary<string, double[]>>(File.ReadAllText(path), ModelConfig.Json) ?? []; }
        catch (JsonException) { return []; } // damaged: recomputed with the next new descendant
    }

    public static string CellName(string task, string method, int depth, int seed) => $"{task}-{method}-d{depth:D2}-s{seed}";

    /// <summary>One descendant trained E epochs (<paramref name="label"/> names the cell: the method, or a
    /// reference run of it).</summary>
    CellResult DescendantCell(string task, Contender contender, string label, int depth, int seed, int epochs, IReadOnlyList<Artefact> artefacts, InitContexts? contexts) =>
        cells.GetOrCompute(CellName(task, label, depth, seed), dir =>
        {
            foreach (var a in artefacts) cells.Await(a.Name); // trained by another worker (--workers mpi)
            return cells.Train(dir, DescendantSpec(preset, task, epochs, seed) with { Init = InitFile(task, contender, label, depth, seed, artefacts, contexts) },
                data, task, label, depth);
        }, log);

    /// <summary>The descendant's initial weights as a model file (kept under descendants/ for inspection).</summary>
    string InitFile(string task, Contender contender, string label, int depth, int seed, IReadOnlyList<Artefact> artefacts, InitContexts? contexts)
    {
        string path = Path.Combine(runDir, "descendants", task, label, $"d{depth:D2}-s{seed}.safetensors");
        var (size, channels, _) = SourceShape();
        var train = data.TaskData(task == "source" ? preset.Source : preset.Transfer, preset.TrainLimit, seed);
        var arch = DescendantArchitecture(preset, contender, depth, size, channels, train.Channels, train.Classes);
        torch.manual_seed(seed * 1000 + depth);
        var (model, norm) = contender.Initialize(new DescendantRequest(task, depth, seed, arch, train, artefacts, contexts));
        ModelFile.Save(path, model, norm, train.ClassNames, new Dictionary<string, string> { ["init"] = label, ["seed"] = seed.ToString() });
        model.Dispose();
        return path;
    }

    /// <summary>A run folder holds one comparison: refuse to mix budgets in it (methods and seeds may be added).</summary>
    void GuardPreset() => ExperimentFolder.GuardPreset(runDir, preset with { Rules = ComparePreset.CurrentRules }, p => p with { Description = "" });
}
