using System.Text.Json;
using Learngene.Data;
using Learngene.Genes;
using Learngene.Init;
using Learngene.IO;
using Learngene.Models;
using Learngene.Training;
using TorchSharp;

namespace Learngene.Runs;

/// <summary>What a <c>learngene train</c> run is: saved as run.json in its folder so the run can be resumed
/// and reported without the original command line.</summary>
public sealed record RunSpec
{
    public string Data { get; init; } = "fashion-mnist";
    /// <summary>Architecture; channels and classes are filled in from the data, and the image size too
    /// when it is 0 (otherwise images are resized to it).</summary>
    public ModelConfig Model { get; init; } = new();
    public TrainOptions Options { get; init; } = new();
    public int? TrainLimit { get; init; }
    public int? TestLimit { get; init; }
    /// <summary>Seed of the test subset when <see cref="TestLimit"/> cuts it; null: the training seed.
    /// Experiments fix it so that seeds vary training only and every run is scored on the same images.</summary>
    public int? TestSeed { get; init; }
    public string? Teacher { get; init; }
    public string Device { get; init; } = "cpu";
    /// <summary>What to start from instead of random weights (<c>train --init</c>): a model file, or the
    /// name of an initializer (scratch, weight-selection, heur-lg, auto-lg, mimetic, pretrain-finetune).</summary>
    public string? Init { get; init; }
    /// <summary>The ancestry model file of initializers that need one.</summary>
    public string? Ancestry { get; init; }
    /// <summary>Layers Heur-LG and Auto-LG inherit.</summary>
    public int InheritLayers { get; init; } = 3;
    /// <summary>Weight selection's layer and element rules.</summary>
    public WeightSelectionRules WeightSelection { get; init; } = new();
    /// <summary>False when the data's labels are not the ancestry's (a transfer task): fresh head.</summary>
    public bool SameLabelSpace { get; init; } = true;
    /// <summary>Set when the run learns a learngene: the method whose auxiliary model is trained.</summary>
    public string? Method { get; init; }
    /// <summary>What training minimizes (a registered objective); null: the method's, else classification.</summary>
    public string? Objective { get; init; }
    /// <summary>The method's own settings as JSON (SWS: {"stages":[3,3,4,3,3]}); null for its defaults.</summary>
    public string? MethodSettings { get; init; }

    public const string FileName = "run.json";

    public void Save(string runDir) =>
        AtomicFile.WriteAllText(Path.Combine(runDir, FileName), JsonSerializer.Serialize(this, new JsonSerializerOptions(ModelConfig.Json) { WriteIndented = true }));

    public static RunSpec Load(string runDir)
    {
        string path = Path.Combine(runDir, FileName);
        if (!File.Exists(path)) throw new LearngeneException($"{runDir} is not a run folder (no {FileName})");
        try { return JsonSerializer.Deserialize<RunSpec>(File.ReadAllText(path), ModelConfig.Json) ?? throw new JsonException(); }
        catch (JsonException) { throw new LearngeneException($"{path} does not parse"); }
    }
}

public sealed record RunResult(string RunDir, string ModelPath, ModelConfig Model, long Parameters, long MacsPerImage, List<EpochMetrics> History)
{
    public EpochMetrics Final => History[^1];
}

/// <summary>Runs a training job end to end: data, model, trainer, final model file. The CLI's
/// <c>train</c>, <c>quickstart</c> and later the experiment runner all go through here.</summary>
public static class TrainRun
{
    public const string ModelName = "model.safetensors";
    public const string GeneName = "learngene.safetensors";

    public static RunResult Start(RunSpec spec, string runDir, DataCatalog catalog, ITrainingObserver? observer = null, Action<string>? log = null)
    {
        string checkpoint = Path.Combine(runDir, Trainer.CheckpointName);
        if (File.Exists(checkpoint) || File.Exists(Path.Combine(runDir, RunSpec.FileName)))
            throw new LearngeneException($"{runDir} already holds a run: resume it with --resume {runDir}, or choose another --out");
        spec.Options.Validate();
        if (spec.Init is not null && Initializers.Registry.TryFind(spec.Init) is null)
        {
            // The architecture is the init file's; the image size follows it.
            var initConfig = ModelFile.ReadConfig(spec.Init);
            spec = spec with { Model = initConfig };
        }
        var data = LoadData(spec, catalog, log);
        var model = spec.Model with { ImageSize = data.Train.ImageSize, Channels = data.Train.Channels, Classes = data.Train.Classes };
        spec = spec with { Model = model.Validate() };
        Directory.CreateDirectory(runDir);
        spec.Save(runDir);
        return Run(spec, runDir, data, resume: null, observer, log);
    }

    public static RunResult Resume(string runDir, DataCatalog catalog, ModelConfig? requested = null, ITrainingObserver? observer = null, Action<string>? log = null)
    {
        var spec = RunSpec.Load(runDir);
        string checkpoint = Path.Combine(runDir, Trainer.CheckpointName);
        if (!File.Exists(checkpoint)) throw new LearngeneException($"{runDir} has no checkpoint to resume from ({Trainer.CheckpointName})");
        var state = Checkpoint.ReadState(checkpoint);
        if (requested is not null && !requested.SameArchitecture(state.Config))
            throw new LearngeneException($"{checkpoint} is a checkpoint of another architecture ({state.Config.Describe()}), not of {requested.Describe()}");
        var data = LoadData(spec, catalog, log);
        return Run(spec, runDir, data, checkpoint, observer, log);
    }

    // Experiment runners train dozens of models on the same data: read and check each data set once per process.
    static readonly Dictionary<(string, string, int?), DataSplits> loaded = [];

    static readonly Dictionary<(string, string, int?, int), ImageDataset> taskData = [];

    /// <summary>The training images a run with this data, limit and seed trains on (kept for the process:
    /// experiment runners ask for it once per descendant).</summary>
    public static ImageDataset TaskData(string data, DataCatalog catalog, int? limit, int seed)
    {
        var key = (data, catalog.CacheDir, limit, seed);
        if (!taskData.TryGetValue(key, out var d))
        {
            var raw = Raw(data, catalog, null, null);
            taskData[key] = d = limit is int n ? raw.Train.Subset(n, seed) : raw.Train;
        }
        return d;
    }

    /// <summary>A data set as read from disk, once per process: a request for a size the data already has
    /// reuses the copy read at its own size.</summary>
    static DataSplits Raw(string data, DataCatalog catalog, int? size, Action<string>? log)
    {
        var key = (data, catalog.CacheDir, size);
        if (loaded.TryGetValue(key, out var raw)) return raw;
        if (size is int s && loaded.TryGetValue((data, catalog.CacheDir, null), out var native) && native.Train.ImageSize == s) return native;
        return loaded[key] = DataSource.Load(data, catalog, size, log);
    }

    /// <summary>The train and test images a run with this spec uses (limits cut with their seeds).</summary>
    public static DataSplits LoadData(RunSpec spec, DataCatalog catalog, Action<string>? log = null)
    {
        int? size = spec.Model.ImageSize > 0 ? spec.Model.ImageSize : null;
        var raw = Raw(spec.Data, catalog, size, log);
        return new DataSplits(Prepare(raw.Train, spec.TrainLimit, spec.Options.Seed), Prepare(raw.Test, spec.TestLimit, spec.TestSeed ?? spec.Options.Seed));

        ImageDataset Prepare(ImageDataset d, int? limit, int seed)
        {
            var adapted = d.Adapt(size ?? raw.Train.ImageSize, d.Channels);
            if (limit is not int n) return adapted;
            var subset = adapted.Subset(n, seed);
            if (!ReferenceEquals(adapted, d) && !ReferenceEquals(adapted, subset)) adapted.Dispose();
            return subset;
        }
    }

    static RunResult Run(RunSpec spec, string runDir, DataSplits data, string? resume, ITrainingObserver? observer, Action<string>? log)
    {
        var device = ResolveDevice(spec.Device);
        torch.manual_seed(spec.Options.Seed);
        var method = spec.Method is null ? null : Methods.Registry.Find(spec.Method);
        Classifier model;
        if (method is not null) model = method.CreateAuxiliary(spec.Model, spec.MethodSettings);
        else if (spec.Init is not null && Initializers.Registry.TryFind(spec.Init) is { } initializer)
        {
            model = Initialize(initializer, spec, data.Train);
            log?.Invoke($"initialized by {initializer.Name}{(spec.Ancestry is null ? "" : $" from {spec.Ancestry}")}");
        }
        else if (spec.Init is not null)
        {
            var init = InitFromFile.Load(spec.Init, spec.Model.Classes, spec.Model.Channels);
            model = init.Model;
            log?.Invoke(init.Note);
        }
        else model = Classifier.Create(spec.Model);
        ModelFile.Loaded? teacher = spec.Teacher is null ? null : ModelFile.Load(spec.Teacher);
        var norm = Normalization.Of(data.Train);
        log?.Invoke($"{spec.Model.Describe()}: {model.ParameterCount():N0} parameters, {model.MacsPerImage() / 1e6:F1} M MACs per image");
        log?.Invoke($"data {data.Name}: {data.Train.Count} train / {data.Test.Count} test images, {data.Train.Classes} classes");
        var trainer = new Trainer(spec.Options) { RunDir = runDir, Observer = observer, Device = device };
        List<EpochMetrics> history;
        try
        {
            using var objective = ObjectiveKinds.Registry.Find(spec.Objective ?? ObjectiveKinds.Default).Create(new ObjectiveContext(spec.Options, model, norm, data, teacher));
            history = trainer.Fit(model, objective, data, norm, resume);
        }
        catch { Release(model, teacher, data); throw; }
        model.to(torch.CPU);
        var provenance = new Dictionary<string, string>
        {
            ["data"] = spec.Data,
            ["images_seen"] = history[^1].ImagesSeen.ToString(),
            ["test_accuracy"] = history[^1].TestAccuracy.ToString("R"),
            ["seed"] = spec.Options.Seed.ToString(),
            ["teacher"] = spec.Teacher ?? "",
            ["init"] = spec.Init ?? "",
        };
        string modelPath;
        if (method is null)
        {
            modelPath = Path.Combine(runDir, ModelName);
            ModelFile.Save(modelPath, model, norm, data.Train.ClassNames, provenance);
        }
        else
        {
            modelPath = Path.Combine(runDir, GeneName);
            LearngeneFile.Save(modelPath, method.Extract(model), new LearngeneInfo
            {
                Method = method.Name, Architecture = model.Config, SourceData = spec.Data, ClassNames = data.Train.ClassNames.ToArray(),
                Normalization = norm, Teacher = spec.Teacher ?? "", ImagesSeen = history[^1].ImagesSeen, Seed = spec.Options.Seed,
                MethodSettings = method.SettingsOf(model),
            });
        }
        var result = new RunResult(runDir, modelPath, spec.Model, model.ParameterCount(), model.MacsPerImage(), history);
        Release(model, teacher, data);
        return result;
    }

    /// <summary>A descendant made by a named initializer (the ancestry loaded for it and freed after).</summary>
    public static Classifier Initialize(IInitializer initializer, RunSpec spec, ImageDataset train)
    {
        if (spec.Model.Family != "vit") throw new LearngeneException($"initializer {initializer.Name} makes ViTs, not {spec.Model.Family} models");
        if (initializer.NeedsAncestry && spec.Ancestry is null)
            throw new LearngeneException($"initializer {initializer.Name} needs an ancestry model: give --ancestry FILE");
        var ancestry = spec.Ancestry is null ? null : ModelFile.Load(spec.Ancestry);
        try
        {
            return initializer.Create(spec.Model, new InitContext
            {
                Ancestry = ancestry, AncestryPath = spec.Ancestry ?? "", SameLabelSpace = spec.SameLabelSpace,
                Data = train, InheritLayers = spec.InheritLayers, Seed = spec.Options.Seed, WeightSelection = spec.WeightSelection,
            });
        }
        finally { ancestry?.Model.Dispose(); }
    }

    /// <summary>Frees a finished run's native memory on this thread (see <see cref="Native"/>); the cached
    /// full data sets stay.</summary>
    static void Release(Classifier model, ModelFile.Loaded? teacher, DataSplits data)
    {
        model.Dispose();
        teacher?.Model.Dispose();
        foreach (var d in new[] { data.Train, data.Test })
            if (!loaded.Values.Any(c => ReferenceEquals(d, c.Train) || ReferenceEquals(d, c.Test))) d.Dispose();
        Native.CollectGarbage();
    }

    public static torch.Device ResolveDevice(string name) => name.ToLowerInvariant() switch
    {
        "cpu" => torch.CPU,
        "cuda" when torch.cuda.is_available() => torch.CUDA,
        "cuda" => throw new LearngeneException("--device cuda was asked for but CUDA is not available (this build uses TorchSharp-cpu; reference libtorch-cuda to use a GPU)"),
        _ => throw new LearngeneException($"unknown device '{name}' (expected cpu or cuda)"),
    };
}
