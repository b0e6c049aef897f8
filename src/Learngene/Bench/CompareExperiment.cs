using System.Text.Json;
using Learngene.Data;
using Learngene.Genes;
using Learngene.Init;
using Learngene.IO;
using Learngene.Models;
using Learngene.Runs;
using Learngene.Training;
using TorchSharp;

namespace Learngene.Bench;

/// <summary>Everything a comparison measured; results.json holds exactly this.</summary>
public sealed record CompareResults
{
    public ComparePreset Preset { get; init; } = new();
    public string[] Methods { get; init; } = [];
    public int[] Seeds { get; init; } = [];
    /// <summary>Classes of the source task (chance level is 1 / this).</summary>
    public int SourceClasses { get; init; }
    public CellResult Teacher { get; init; } = new();
    /// <summary>The auxiliary model of each learngene method.</summary>
    public Dictionary<string, CellResult> Learngenes { get; init; } = [];
    /// <summary>The ancestry ViT of weight selection, Heur-LG and Auto-LG (when one of them ran).</summary>
    public CellResult? Ancestry { get; init; }
    /// <summary>Pretrain-finetune's pre-trained model of each measured depth (same budget as a learngene).</summary>
    public Dictionary<int, CellResult> Pretrained { get; init; } = [];
    /// <summary>Parameters each method stores to initialize the family of depths 1..AuxiliaryDepth.</summary>
    public Dictionary<string, long> StoredParameters { get; init; } = [];
    /// <summary>Images each method's pre-training processes for the family of depths 1..AuxiliaryDepth
    /// (pretrain-finetune: one model per depth; the teacher's own training, shared, not included).</summary>
    public Dictionary<string, long> PretrainImages { get; init; } = [];
    /// <summary>FLOPs of the same pre-training: 2 per multiply-add, forward and backward of the trained
    /// model (3× its forward) plus the teacher's forward pass on every image it distils.</summary>
    public Dictionary<string, double> PretrainFlops { get; init; } = [];
    /// <summary>Auto-LG's CKA score of each ancestry block, per task.</summary>
    public Dictionary<string, double[]> AutoLgScores { get; init; } = [];
    public List<CellResult> Cells { get; init; } = [];
    /// <summary>Seconds spent training every cell (also those computed by an earlier, resumed invocation).</summary>
    public double ComputeSeconds { get; init; }
    /// <summary>Wall-clock seconds spent on this run folder by every invocation so far (an interrupted and
    /// resumed run counts both parts; data loading and report writing included).</summary>
    public double WallSeconds { get; init; }
    public DateTime Finished { get; init; }
}

/// <summary>The comparison of SPEC.md's learngene methods and initialization baselines: one teacher;
/// one learngene per method (its auxiliary model distilled from the teacher), one ancestry ViT for the
/// baselines that inherit layers and one pre-trained model per depth for pretrain-finetune, every one of
/// these pre-trained artefacts with the same distillation, images and epochs; then, for each task,
/// method, depth and seed, a descendant initialized by the method (in the family's input shape) and
/// trained E epochs with the same recipe, data and test images. Scratch also trains LongEpochs on the
/// source task: the reference curve of the training-cost factor. Every training is a cached cell: a
/// resumed or extended run (more methods, seeds) computes only what is missing.</summary>
public sealed class CompareExperiment(ComparePreset preset, IReadOnlyList<string> methods, int seeds, string runDir, DataCatalog catalog, Action<string> log)
{
    public const string ResultsName = "results.json";
    public static readonly string[] AllMethods = ["tleg", "sws", "scratch", "pretrain-finetune", "weight-selection", "heur-lg", "auto-lg", "mimetic"];
    static readonly string[] UsesAncestry = ["weight-selection", "heur-lg", "auto-lg"];

    readonly CellStore cells = new(runDir);
    ComparePreset Preset => preset;
    readonly int[] seedList = Enumerable.Range(preset.Seed, seeds).ToArray();

    public static string[] ParseMethods(string list)
    {
        var names = list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(n => n.ToLowerInvariant()).Distinct().ToArray();
        foreach (var n in names)
            if (!AllMethods.Contains(n)) throw new LearngeneException($"unknown method '{n}' (known: {string.Join(", ", AllMethods)})");
        if (names.Length == 0) throw new LearngeneException("--methods is empty");
        return names;
    }

    /// <summary>The settings every pre-trained artefact (learngene, ancestry, pretrain-finetune model) is
    /// trained with: the learngenes' soft distillation (the authors' KD weight 1, T = 1) and budget.</summary>
    public static TrainOptions PretrainRecipe(ComparePreset p) =>
        p.Recipe with { Epochs = p.AuxiliaryEpochs, Seed = p.Seed, Distill = "soft", DistillAlpha = 1.0, Temperature = 1.0 };

    public CompareResults Run(string? teacherFile = null)
    {
        if (seeds < 1) throw new LearngeneException($"--seeds must be at least 1 (got {seeds})");
        if (methods.Contains("pretrain-finetune") && preset.Transfer == "")
            throw new LearngeneException("pretrain-finetune is measured on the transfer task, and this comparison has none");
        if (methods.Contains("weight-selection") && preset.Depths.Max() > preset.AuxiliaryDepth)
            throw new LearngeneException($"weight selection makes models no deeper than its ancestry (depth {preset.AuxiliaryDepth}); drop depths above it or the method");
        preset.WeightSelection.Validate();
        Directory.CreateDirectory(runDir);
        GuardPreset();
        var family = ModelPresets.Registry.Find(preset.Family).Config with { Pooling = "avg", ImageSize = 0 };
        var distill = PretrainRecipe(preset);

        var teacher = teacherFile is not null
            ? new CellResult { Name = "teacher", Task = "source", Init = "given", ModelPath = cells.Relative(teacherFile) }
            : cells.GetOrCompute("teacher", dir => Train(dir, new RunSpec
            {
                Data = preset.Source, Model = ModelPresets.Registry.Find(preset.TeacherModel).Config with { ImageSize = 0 },
                Options = preset.Recipe with { Epochs = preset.TeacherEpochs, Seed = preset.Seed },
                TrainLimit = preset.TeacherTrainLimit, TestLimit = preset.TestLimit, TestSeed = preset.Seed,
            }, "source", "teacher", 0), log);
        string teacherPath = cells.Resolve(teacher.ModelPath);

        // Pre-trained artefacts: one learngene per method, one ancestry ViT, one model per depth for
        // pretrain-finetune, all with the same budget per model.
        CellResult Pretrain(string name, ModelConfig model, string? method = null, string? settings = null) =>
            cells.GetOrCompute(name, dir => Train(dir, new RunSpec
            {
                Data = preset.Source, Model = model, Method = method, MethodSettings = settings, Teacher = teacherPath,
                Options = distill, TrainLimit = preset.AuxiliaryTrainLimit, TestLimit = preset.TestLimit, TestSeed = preset.Seed,
            }, "source", method is null ? name : $"{method}-auxiliary", model.Depth), log);
        var learngenes = new Dictionary<string, CellResult>();
        foreach (var m in methods.Where(m => Genes.Methods.Registry.TryFind(m) is not null))
        {
            int depth = m == "sws" ? preset.SwsStages.Sum() : preset.AuxiliaryDepth;
            string? settings = m == "sws" ? JsonSerializer.Serialize(new Genes.Sws.SwsMethod.Settings(preset.SwsStages), ModelConfig.Json) : null;
            learngenes[m] = Pretrain($"learngene-{m}", family with { Depth = depth }, m, settings);
        }
        CellResult? ancestry = !methods.Any(UsesAncestry.Contains) ? null : Pretrain("ancestry", family with { Depth = preset.AuxiliaryDepth });
        // At the ancestry's depth pretrain-finetune's model is the ancestry: the same architecture and training.
        var pretrained = !methods.Contains("pretrain-finetune") ? new Dictionary<int, CellResult>()
            : preset.Depths.ToDictionary(d => d, d => Pretrain(d == preset.AuxiliaryDepth ? "ancestry" : $"pretrain-d{d:D2}", family with { Depth = d }));

        var results = new List<CellResult>();
        if (preset.LongEpochs > 0 && methods.Contains("scratch"))
            foreach (int depth in preset.Depths)
                foreach (int seed in seedList)
                {
                    results.Add(DescendantCell("source", "scratch-long", depth, seed, preset.LongEpochs, learngenes, ancestry, pretrained));
                    if (preset.FloorEpochs > 0 && preset.FloorEpochs != preset.LongEpochs)
                        results.Add(DescendantCell("source", "scratch-floor", depth, seed, preset.FloorEpochs, learngenes, ancestry, pretrained));
                }

        // Auto-LG's scores are computed with its first descendant of a task; kept on disk for cached runs.
        string scoresPath = Path.Combine(runDir, "auto-lg-scores.json");
        var scores = ReadScores(scoresPath);
        foreach (var task in preset.Transfer == "" ? ["source"] : new[] { "source", "transfer" })
        {
            using var contexts = new ContextCache(this, task);
            foreach (var m in methods)
            {
                if (m == "pretrain-finetune" && task == "source") continue; // on the source it is its pre-trained model
                foreach (int depth in preset.Depths)
                    foreach (int seed in seedList)
                        results.Add(DescendantCell(task, m, depth, seed, preset.Epochs, learngenes, ancestry, pretrained, contexts));
            }
            if (contexts.AutoLgScores is { } s)
            {
                scores[task] = s;
                AtomicFile.WriteAllText(scoresPath, JsonSerializer.Serialize(scores, ModelConfig.Json));
            }
        }

        var shape = SourceShape();
        var costs = new CompareCosts(preset, family with { ImageSize = shape.ImageSize, Channels = shape.Channels, Classes = shape.Classes }, cells);
        var all = new CompareResults
        {
            Preset = preset, Methods = methods.ToArray(), Seeds = seedList, SourceClasses = shape.Classes, Teacher = teacher, Learngenes = learngenes, Ancestry = ancestry, Pretrained = pretrained,
            StoredParameters = methods.Append("pretrain-finetune").Distinct().ToDictionary(m => m, m => costs.StoredParameters(m, learngenes)),
            PretrainImages = methods.ToDictionary(m => m, m => costs.PretrainImages(m, learngenes, ancestry, pretrained)),
            PretrainFlops = methods.ToDictionary(m => m, m => costs.PretrainFlops(m, learngenes, ancestry, pretrained, teacher)),
            AutoLgScores = methods.Contains("auto-lg") ? scores : [], Cells = results,
            ComputeSeconds = results.Sum(c => c.Seconds) + learngenes.Values.Sum(c => c.Seconds) + (ancestry?.Seconds ?? 0) + pretrained.Values.Sum(c => c.Seconds) + teacher.Seconds,
            WallSeconds = cells.SaveWallSeconds(), Finished = DateTime.UtcNow,
        };
        AtomicFile.WriteAllText(Path.Combine(runDir, ResultsName), JsonSerializer.Serialize(all, new JsonSerializerOptions(ModelConfig.Json) { WriteIndented = true }));
        return all;
    }

    /// <summary>The family's input: the source data's image size and channels, which every learngene,
    /// the ancestry and the teacher were trained on. Every descendant of every method starts in this
    /// shape and trains on its task's data resized to it.</summary>
    (int ImageSize, int Channels, int Classes) SourceShape()
    {
        var source = TrainRun.TaskData(preset.Source, catalog, preset.TrainLimit, preset.Seed);
        return (source.ImageSize, source.Channels, source.Classes);
    }

    static Dictionary<string, double[]> ReadScores(string path)
    {
        if (!File.Exists(path)) return [];
        try { return JsonSerializer.Deserialize<Dictionary<string, double[]>>(File.ReadAllText(path), ModelConfig.Json) ?? []; }
        catch (JsonException) { return []; } // damaged: recomputed with the next new Auto-LG descendant
    }

    public static string CellName(string task, string method, int depth, int seed) => $"{task}-{method}-d{depth:D2}-s{seed}";

    CellResult DescendantCell(string task, string method, int depth, int seed, int epochs, Dictionary<string, CellResult> learngenes,
        CellResult? ancestry, Dictionary<int, CellResult> pretrained, ContextCache? contexts = null)
    {
        string data = task == "source" ? preset.Source : preset.Transfer;
        return cells.GetOrCompute(CellName(task, method, depth, seed), dir =>
        {
            string init = InitFile(task, method, depth, seed, learngenes, ancestry, pretrained, contexts);
            return Train(dir, new RunSpec
            {
                Data = data, Init = init, Options = preset.Recipe with { Epochs = epochs, Seed = seed },
                TrainLimit = preset.TrainLimit, TestLimit = preset.TestLimit, TestSeed = preset.Seed,
            }, task, method, depth);
        }, log);
    }

    /// <summary>The descendant's initial weights as a model file (kept under descendants/ for inspection),
    /// in the family's input shape whatever the task's images are (training resizes them to it).</summary>
    string InitFile(string task, string method, int depth, int seed, Dictionary<string, CellResult> learngenes,
        CellResult? ancestry, Dictionary<int, CellResult> pretrained, ContextCache? contexts)
    {
        string path = Path.Combine(runDir, "descendants", task, method, $"d{depth:D2}-s{seed}.safetensors");
        bool same = task == "source";
        var (size, channels, _) = SourceShape();
        var train = TrainRun.TaskData(task == "source" ? preset.Source : preset.Transfer, catalog, preset.TrainLimit, seed);
        // Data-free initializers (scratch, mimetic) draw the patch embedding for the task's channels; what
        // comes from a source model keeps its channels and training adapts it, the same way for every method.
        bool dataFree = Genes.Methods.Registry.TryFind(method) is null && method != "pretrain-finetune" && !UsesAncestry.Contains(method);
        var arch = ModelPresets.Registry.Find(preset.Family).Config with
        {
            Pooling = "avg", Depth = depth, ImageSize = size, Channels = dataFree ? train.Channels : channels, Classes = train.Classes,
        };
        torch.manual_seed(seed * 1000 + depth);
        VisionTransformer model;
        Normalization norm; // what the initial weights were trained with (training itself normalizes by its data)
        if (Genes.Methods.Registry.TryFind(method) is { } m)
        {
            using var gene = LearngeneFile.Load(cells.Resolve(learngenes[method].ModelPath), m.Name);
            model = m.Expand(gene, depth, train.Classes, sameLabelSpace: same);
            norm = gene.Info.Normalization;
        }
        else
        {
            string? from = method switch
            {
                "pretrain-finetune" => cells.Resolve(pretrained[depth].ModelPath),
                _ when UsesAncestry.Contains(method) => cells.Resolve(ancestry!.ModelPath),
                _ => null,
            };
            var context = contexts is null || from is null
                ? new InitContext { Data = train, Seed = seed, SameLabelSpace = same }
                : contexts.For(from, train, seed, size, channels);
            model = Initializers.Registry.Find(method.StartsWith("scratch") ? "scratch" : method).Create(arch, context);
            norm = context.Ancestry?.Normalization ?? Normalization.Of(train);
        }
        ModelFile.Save(path, model, norm, train.ClassNames, new Dictionary<string, string> { ["init"] = method, ["seed"] = seed.ToString() });
        model.Dispose();
        return path;
    }

    /// <summary>Ancestry models loaded once per task; Auto-LG's layer ranking computed once per ancestry.</summary>
    sealed class ContextCache(CompareExperiment owner, string task) : IDisposable
    {
        readonly Dictionary<string, InitContext> contexts = [];
        public double[]? AutoLgScores => contexts.Values.Select(c => c.Memo.GetValueOrDefault("auto-lg") as double[]).FirstOrDefault(s => s is not null);

        readonly List<ImageDataset> adapted = [];

        /// <summary>The initializer's view of the task: its images in the family's shape (Auto-LG adapts
        /// a pseudo descendant on them).</summary>
        public InitContext For(string ancestryPath, ImageDataset train, int seed, int size, int channels)
        {
            if (!contexts.TryGetValue(ancestryPath, out var c))
            {
                var data = train.Adapt(size, channels);
                if (!ReferenceEquals(data, train)) adapted.Add(data);
                contexts[ancestryPath] = c = new InitContext
                {
                    Ancestry = ModelFile.Load(ancestryPath), AncestryPath = ancestryPath, SameLabelSpace = task == "source",
                    Data = data, InheritLayers = owner.Preset.InheritLayers, Seed = seed, WeightSelection = owner.Preset.WeightSelection,
                };
            }
            return c;
        }

        public void Dispose()
        {
            foreach (var c in contexts.Values) c.Ancestry?.Model.Dispose();
            foreach (var d in adapted) d.Dispose();
            Native.CollectGarbage();
        }
    }

    /// <summary>A run folder holds one experiment: refuse to mix budgets in it (methods and seeds may be added).</summary>
    void GuardPreset()
    {
        string path = Path.Combine(runDir, "preset.json");
        string json = JsonSerializer.Serialize(preset with { Rules = ComparePreset.CurrentRules }, ModelConfig.Json);
        if (File.Exists(path) && Budget(File.ReadAllText(path)) != Budget(json))
            throw new LearngeneException($"{runDir} holds an experiment with other settings or made under earlier comparison rules ({path}); use another --out to run these");
        AtomicFile.WriteAllText(path, json);

        // What must match: everything but the preset's description.
        static string Budget(string presetJson)
        {
            try
            {
                var p = JsonSerializer.Deserialize<ComparePreset>(presetJson, ModelConfig.Json) ?? throw new JsonException();
                return JsonSerializer.Serialize(p with { Description = "" }, ModelConfig.Json);
            }
            catch (JsonException) { return presetJson; }
        }
    }

    CellResult Train(string dir, RunSpec spec, string task, string init, int depth)
    {
        bool resumable = File.Exists(Path.Combine(dir, Trainer.CheckpointName));
        if (!resumable && Directory.Exists(dir)) Directory.Delete(dir, recursive: true); // stopped before its first checkpoint
        var result = resumable ? TrainRun.Resume(dir, catalog, log: null) : TrainRun.Start(spec, dir, catalog, observer: null, log: null);
        return new CellResult
        {
            Task = task, Init = init, Depth = depth, Seed = spec.Options.Seed, History = result.History, Parameters = result.Parameters,
            MacsPerImage = result.MacsPerImage, ModelPath = cells.Relative(result.ModelPath),
            TrainImages = result.History[^1].ImagesSeen, Seconds = result.History.Sum(h => h.Seconds),
        };
    }
}
