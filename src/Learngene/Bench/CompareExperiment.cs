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
    public CellResult Teacher { get; init; } = new();
    /// <summary>The auxiliary model of each learngene method.</summary>
    public Dictionary<string, CellResult> Learngenes { get; init; } = [];
    /// <summary>The ancestry ViT of weight selection, Heur-LG and Auto-LG (when one of them ran).</summary>
    public CellResult? Ancestry { get; init; }
    /// <summary>Parameters each method stores to initialize the family of depths 1..AuxiliaryDepth.</summary>
    public Dictionary<string, long> StoredParameters { get; init; } = [];
    /// <summary>Images each method's pre-training processed (the teacher's, shared, not included).</summary>
    public Dictionary<string, long> PretrainImages { get; init; } = [];
    /// <summary>Auto-LG's CKA score of each ancestry block, per task.</summary>
    public Dictionary<string, double[]> AutoLgScores { get; init; } = [];
    public List<CellResult> Cells { get; init; } = [];
    public double ComputeSeconds { get; init; }
    public DateTime Finished { get; init; }
}

/// <summary>The comparison of SPEC.md's learngene methods and initialization baselines: one teacher;
/// one learngene per method (its auxiliary model distilled from the teacher) and one ancestry ViT (the
/// same distillation and budget) for the baselines that inherit layers; then, for each task, method,
/// depth and seed, a descendant initialized by the method and trained E epochs with the same recipe and
/// data. Scratch also trains LongEpochs on the source task (the reference of the training-cost claim and
/// pretrain-finetune's pre-training). Every training is a cached cell: a resumed or extended run (more
/// methods, seeds) computes only what is missing.</summary>
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

    public CompareResults Run(string? teacherFile = null)
    {
        if (seeds < 1) throw new LearngeneException($"--seeds must be at least 1 (got {seeds})");
        if (methods.Contains("pretrain-finetune") && preset.LongEpochs < 1)
            throw new LearngeneException($"pretrain-finetune pre-trains on the source for the preset's long budget, which is 0 in '{preset.Name}'");
        if (methods.Contains("weight-selection") && preset.Depths.Max() > preset.AuxiliaryDepth)
            throw new LearngeneException($"weight selection makes models no deeper than its ancestry (depth {preset.AuxiliaryDepth}); drop depths above it or the method");
        Directory.CreateDirectory(runDir);
        GuardPreset();
        var family = ModelPresets.Find(preset.Family).Config with { Pooling = "avg", ImageSize = 0 };
        var distill = preset.Recipe with { Epochs = preset.AuxiliaryEpochs, Seed = preset.Seed, Distill = "soft", DistillAlpha = 1.0, Temperature = 1.0 };

        var teacher = teacherFile is not null
            ? new CellResult { Name = "teacher", Task = "source", Init = "given", ModelPath = Path.GetFullPath(teacherFile) }
            : cells.GetOrCompute("teacher", dir => Train(dir, new RunSpec
            {
                Data = preset.Source, Model = ModelPresets.Find(preset.TeacherModel).Config with { ImageSize = 0 },
                Options = preset.Recipe with { Epochs = preset.TeacherEpochs, Seed = preset.Seed },
                TrainLimit = preset.TeacherTrainLimit, TestLimit = preset.TestLimit,
            }, "source", "teacher", 0), log);

        // Pre-trained artefacts: one learngene per method, one ancestry ViT, all with the same budget.
        var learngenes = new Dictionary<string, CellResult>();
        foreach (var m in methods.Where(m => Genes.Methods.TryFind(m) is not null))
        {
            var method = Genes.Methods.Find(m);
            int depth = m == "sws" ? preset.SwsStages.Sum() : preset.AuxiliaryDepth;
            string? settings = m == "sws" ? JsonSerializer.Serialize(new Genes.Sws.SwsMethod.Settings(preset.SwsStages), ModelConfig.Json) : null;
            learngenes[m] = cells.GetOrCompute($"learngene-{m}", dir => Train(dir, new RunSpec
            {
                Data = preset.Source, Model = family with { Depth = depth }, Method = m, MethodSettings = settings, Teacher = teacher.ModelPath,
                Options = distill, TrainLimit = preset.AuxiliaryTrainLimit, TestLimit = preset.TestLimit,
            }, "source", $"{m}-auxiliary", depth), log);
        }
        CellResult? ancestry = !methods.Any(UsesAncestry.Contains) ? null : cells.GetOrCompute("ancestry", dir => Train(dir, new RunSpec
        {
            Data = preset.Source, Model = family with { Depth = preset.AuxiliaryDepth }, Teacher = teacher.ModelPath,
            Options = distill, TrainLimit = preset.AuxiliaryTrainLimit, TestLimit = preset.TestLimit,
        }, "source", "ancestry", preset.AuxiliaryDepth), log);

        var results = new List<CellResult>();
        bool needLong = preset.LongEpochs > 0 && (methods.Contains("scratch") || (methods.Contains("pretrain-finetune") && preset.Transfer != ""));
        if (needLong)
            foreach (int depth in preset.Depths)
                foreach (int seed in seedList)
                    results.Add(DescendantCell("source", "scratch-long", depth, seed, preset.LongEpochs, learngenes, ancestry, results));

        // Auto-LG's scores are computed with its first descendant of a task; kept on disk for cached runs.
        string scoresPath = Path.Combine(runDir, "auto-lg-scores.json");
        var scores = ReadScores(scoresPath);
        foreach (var task in preset.Transfer == "" ? ["source"] : new[] { "source", "transfer" })
        {
            using var contexts = new ContextCache(this, task);
            foreach (var m in methods)
            {
                if (m == "pretrain-finetune" && task == "source") continue; // its source model is scratch-long
                foreach (int depth in preset.Depths)
                    foreach (int seed in seedList)
                        results.Add(DescendantCell(task, m, depth, seed, preset.Epochs, learngenes, ancestry, results, contexts));
            }
            if (contexts.AutoLgScores is { } s)
            {
                scores[task] = s;
                AtomicFile.WriteAllText(scoresPath, JsonSerializer.Serialize(scores, ModelConfig.Json));
            }
        }

        var all = new CompareResults
        {
            Preset = preset, Methods = methods.ToArray(), Seeds = seedList, Teacher = teacher, Learngenes = learngenes, Ancestry = ancestry,
            StoredParameters = methods.Append("pretrain-finetune").Distinct().ToDictionary(m => m, m => StoredParameters(m, learngenes, ancestry, family)),
            PretrainImages = methods.ToDictionary(m => m, m => PretrainImages(m, learngenes, ancestry, results)),
            AutoLgScores = methods.Contains("auto-lg") ? scores : [], Cells = results, ComputeSeconds = results.Sum(c => c.Seconds) + learngenes.Values.Sum(c => c.Seconds) + (ancestry?.Seconds ?? 0) + teacher.Seconds,
            Finished = DateTime.UtcNow,
        };
        AtomicFile.WriteAllText(Path.Combine(runDir, ResultsName), JsonSerializer.Serialize(all, new JsonSerializerOptions(ModelConfig.Json) { WriteIndented = true }));
        return all;
    }

    static Dictionary<string, double[]> ReadScores(string path)
    {
        if (!File.Exists(path)) return [];
        try { return JsonSerializer.Deserialize<Dictionary<string, double[]>>(File.ReadAllText(path), ModelConfig.Json) ?? []; }
        catch (JsonException) { return []; } // damaged: recomputed with the next new Auto-LG descendant
    }

    public static string CellName(string task, string method, int depth, int seed) => $"{task}-{method}-d{depth:D2}-s{seed}";

    CellResult DescendantCell(string task, string method, int depth, int seed, int epochs, Dictionary<string, CellResult> learngenes,
        CellResult? ancestry, List<CellResult> done, ContextCache? contexts = null)
    {
        string data = task == "source" ? preset.Source : preset.Transfer;
        return cells.GetOrCompute(CellName(task, method, depth, seed), dir =>
        {
            string init = InitFile(task, method, depth, seed, learngenes, ancestry, done, contexts);
            return Train(dir, new RunSpec
            {
                Data = data, Init = init, Options = preset.Recipe with { Epochs = epochs, Seed = seed },
                TrainLimit = preset.TrainLimit, TestLimit = preset.TestLimit,
            }, task, method, depth);
        }, log);
    }

    /// <summary>The descendant's initial weights as a model file (kept under descendants/ for inspection).</summary>
    string InitFile(string task, string method, int depth, int seed, Dictionary<string, CellResult> learngenes,
        CellResult? ancestry, List<CellResult> done, ContextCache? contexts)
    {
        string path = Path.Combine(runDir, "descendants", task, method, $"d{depth:D2}-s{seed}.safetensors");
        bool same = task == "source";
        var train = TrainRun.TaskData(task == "source" ? preset.Source : preset.Transfer, catalog, preset.TrainLimit, seed);
        var arch = ModelPresets.Find(preset.Family).Config with
        {
            Pooling = "avg", Depth = depth, ImageSize = train.ImageSize, Channels = train.Channels, Classes = train.Classes,
        };
        torch.manual_seed(seed * 1000 + depth);
        VisionTransformer model;
        Normalization norm; // what the initial weights were trained with (training itself normalizes by its data)
        if (Genes.Methods.TryFind(method) is { } m)
        {
            using var gene = LearngeneFile.Load(learngenes[method].ModelPath, m.Name);
            model = m.Expand(gene, depth, train.Classes, sameLabelSpace: same);
            norm = gene.Info.Normalization;
        }
        else
        {
            string? from = method switch
            {
                "pretrain-finetune" => done.Single(c => c.Name == CellName("source", "scratch-long", depth, seed)).ModelPath,
                _ when UsesAncestry.Contains(method) => ancestry!.ModelPath,
                _ => null,
            };
            var context = contexts is null || from is null ? new InitContext { Data = train, Seed = seed, SameLabelSpace = same } : contexts.For(from, train, seed);
            model = Initializers.Find(method == "scratch-long" ? "scratch" : method).Create(arch, context);
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

        public InitContext For(string ancestryPath, ImageDataset train, int seed)
        {
            if (!contexts.TryGetValue(ancestryPath, out var c))
                contexts[ancestryPath] = c = new InitContext
                {
                    Ancestry = ModelFile.Load(ancestryPath), AncestryPath = ancestryPath, SameLabelSpace = task == "source",
                    Data = train, InheritLayers = owner.Preset.InheritLayers, Seed = seed,
                };
            return c;
        }

        public void Dispose()
        {
            foreach (var c in contexts.Values) c.Ancestry?.Model.Dispose();
            Native.CollectGarbage();
        }
    }

    long StoredParameters(string method, Dictionary<string, CellResult> learngenes, CellResult? ancestry, ModelConfig family)
    {
        var source = TrainRun.TaskData(preset.Source, catalog, preset.TrainLimit, preset.Seed);
        var member = family with { ImageSize = source.ImageSize, Channels = source.Channels, Classes = source.Classes };
        VisionTransformer Build(int depth) => new(member with { Depth = depth });
        long Params(int depth) { using var m = Build(depth); return m.ParameterCount(); }
        switch (method)
        {
            case "tleg" or "sws":
                using (var gene = LearngeneFile.Load(learngenes[method].ModelPath, method))
                    return Genes.Methods.Find(method).StoredParameters(gene);
            case "pretrain-finetune":
                return Enumerable.Range(1, preset.AuxiliaryDepth).Sum(Params);
            case "weight-selection":
                return Params(preset.AuxiliaryDepth);
            case "heur-lg" or "auto-lg":
                using (var m = Build(1)) // k blocks plus the final norm and head they sit under
                    return preset.InheritLayers * m.Blocks[0].parameters().Sum(p => p.numel())
                         + m.named_parameters().Where(p => p.name.StartsWith("norm.") || p.name.StartsWith("head.")).Sum(p => p.parameter.numel());
            default:
                return 0;
        }
    }

    long PretrainImages(string method, Dictionary<string, CellResult> learngenes, CellResult? ancestry, List<CellResult> results) => method switch
    {
        "tleg" or "sws" => learngenes[method].TrainImages,
        "weight-selection" or "heur-lg" or "auto-lg" => ancestry?.TrainImages ?? 0,
        "pretrain-finetune" => results.Where(c => c.Init == "scratch-long" && c.Name.EndsWith($"-s{preset.Seed}")).Sum(c => c.TrainImages),
        _ => 0,
    };

    /// <summary>A run folder holds one experiment: refuse to mix budgets in it (methods and seeds may be added).</summary>
    void GuardPreset()
    {
        string path = Path.Combine(runDir, "preset.json");
        string json = JsonSerializer.Serialize(preset, ModelConfig.Json);
        if (File.Exists(path) && Budget(File.ReadAllText(path)) != Budget(json))
            throw new LearngeneException($"{runDir} holds an experiment with other settings ({path}); use another --out to run these");
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
            MacsPerImage = result.MacsPerImage, ModelPath = Path.GetFullPath(result.ModelPath),
            TrainImages = result.History[^1].ImagesSeen, Seconds = result.History.Sum(h => h.Seconds),
        };
    }
}
