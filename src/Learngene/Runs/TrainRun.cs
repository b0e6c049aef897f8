using Learngene.Baselines.Initializers;
using Learngene.Data;
using Learngene.Distributed;
using Learngene.IO;
using Learngene.Methods;
using Learngene.Models;
using Learngene.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Runs;

public sealed record RunResult(string RunDir, string ModelPath, ModelConfig Model, long Parameters, long MacsPerImage, List<EpochMetrics> History)
{
    public EpochMetrics Final => History[^1];
}

/// <summary>Runs a training job end to end: data, model, trainer, final model file. The CLI's
/// <c>train</c>, <c>learn</c>, <c>quickstart</c> and every cell of the experiments go through here.</summary>
public static class TrainRun
{
    public const string ModelName = "model.safetensors";
    public const string GeneName = "learngene.safetensors";

    /// <param name="world">The ranks training this run together (data parallel); by default the job this
    /// process was launched in (<see cref="World.Current"/>: one process unless under mpirun or srun). Rank 0
    /// alone writes the run folder (settings, checkpoints, metrics, the model) and reports progress; the run
    /// folder must be one every rank reads (a shared file system, as on any cluster) for <c>--resume</c>.</param>
    public static RunResult Start(RunSpec spec, string runDir, DataCache cache, ITrainingObserver? observer = null, Action<string>? log = null, World? world = null)
    {
        world ??= World.Current;
        string checkpoint = Path.Combine(runDir, Trainer.CheckpointName);
        // Rank 0 alone looks at and writes the folder (the others would see its run.json appear).
        if (world.IsRoot && (File.Exists(checkpoint) || File.Exists(Path.Combine(runDir, RunSpec.FileName))))
            throw new LearngeneException($"{runDir} already holds a run: resume it, or choose another run folder", setting: "out");
        spec.Options.Validate();
        if (spec.Init is string named && Initializers.Registry.Contains(named)) Initializer(spec); // its settings are checked before anything loads
        if (spec.Init is string init && !Initializers.Registry.Contains(init) && !File.Exists(init))
            throw new LearngeneException($"'{init}' is neither a model file nor an initializer (known: {string.Join(", ", Initializers.Registry.Names)})", setting: "init");
        if (spec.Ancestry is string a)
        {
            if (!File.Exists(a)) throw new LearngeneException($"{a}: no such file", setting: "ancestry");
            // An ancestry trained on other data has another label space: the head is then fresh.
            spec = spec with { SameLabelSpace = SafeTensors.ReadMetadata(a).GetValueOrDefault("data") == spec.Data };
        }
        if (spec.Init is not null && Initializers.Registry.TryFind(spec.Init) is null)
        {
            // The architecture is the init file's; the image size follows it.
            var initConfig = ModelFile.ReadConfig(spec.Init);
            spec = spec with { Model = initConfig };
        }
        var data = LoadData(spec, cache, log);
        var model = spec.Model.WithData(data.Train.ImageSize, data.Train.Channels, data.Train.Classes);
        spec = spec with { Model = model.Validate() };
        if (!world.IsRoot) return Run(spec, runDir, data, cache, resume: null, observer, log, world);
        RunLock runLock;
        try
        {
            Directory.CreateDirectory(runDir);
            runLock = RunLock.Acquire(runDir);
            // Checked again under the lock: another process may have started a run here meanwhile.
            if (File.Exists(checkpoint) || File.Exists(Path.Combine(runDir, RunSpec.FileName)))
            {
                runLock.Dispose();
                throw new LearngeneException($"{runDir} already holds a run: resume it, or choose another run folder", setting: "out");
            }
        }
        catch { cache.Release(data); throw; }
        using var _ = runLock;
        spec.Save(runDir);
        return Run(spec, runDir, data, cache, resume: null, observer, log, world);
    }

    public static RunResult Resume(string runDir, DataCache cache, ModelConfig? requested = null, ITrainingObserver? observer = null, Action<string>? log = null, World? world = null)
    {
        world ??= World.Current;
        var spec = RunSpec.Load(runDir);
        using var runLock = world.IsRoot ? RunLock.Acquire(runDir) : null;
        string checkpoint = Path.Combine(runDir, Trainer.CheckpointName);
        if (!File.Exists(checkpoint))
        {
            if (requested is not null && !requested.SameArchitecture(spec.Model))
                throw new LearngeneException($"{runDir} is a run of another architecture ({spec.Model.Describe()}), not of {requested.Describe()}");
            // Stopped before its first epoch ended: nothing to continue, so the saved run starts again.
            log?.Invoke($"{runDir} has no checkpoint yet (stopped in its first epoch): starting the run again");
            return Run(spec, runDir, LoadData(spec, cache, log), cache, null, observer, log, world);
        }
        var state = Checkpoint.ReadState(checkpoint);
        if (requested is not null && !requested.SameArchitecture(state.Config))
            throw new LearngeneException($"{checkpoint} is a checkpoint of another architecture ({state.Config.Describe()}), not of {requested.Describe()}");
        var data = LoadData(spec, cache, log);
        return Run(spec, runDir, data, cache, checkpoint, observer, log, world);
    }

    /// <summary>The train and test images a run with this spec uses (limits cut with their seeds).</summary>
    public static DataSplits LoadData(RunSpec spec, DataCache cache, Action<string>? log = null)
    {
        // Image size 0: the data's own, or the nearest size the model's patches divide.
        int size = spec.Model.ImageSize > 0 ? spec.Model.ImageSize : InputSize.Fit(cache.Raw(spec.Data, log: log).Train.ImageSize, spec.Model.SizeStep());
        var splits = cache.Splits(spec.Data, size, spec.TrainLimit, spec.TrainSeed ?? spec.Options.Seed, spec.TestLimit, spec.TestSeed ?? spec.Options.Seed, log);
        if (spec.Classes is null) return splits;
        try { return splits.WithClasses(spec.Classes); }
        finally { cache.Release(splits); }
    }

    static RunResult Run(RunSpec spec, string runDir, DataSplits data, DataCache cache, string? resume, ITrainingObserver? observer, Action<string>? log, World world)
    {
        // Rank 0 speaks for the job.
        if (!world.IsRoot) { observer = null; log = null; }
        var device = ResolveDevice(spec.Device, world);
        torch.manual_seed(spec.Options.Seed);
        var method = spec.Method is null ? null : LearngeneMethods.FindAuxiliary(spec.Method);
        nn.Module model;
        if (method is not null || spec.Init is null) model = Build(spec);
        else if (Initializers.Registry.Contains(spec.Init))
        {
            var initializer = Initializer(spec);
            model = Initialize(initializer, spec, data.Train);
            log?.Invoke($"initialized by {initializer.Name}{(spec.Ancestry is null ? "" : $" from {spec.Ancestry}")}");
        }
        else
        {
            var init = InitFromFile.Load(spec.Init, spec.Model.Classes, spec.Model.Channels);
            model = init.Model;
            log?.Invoke(init.Note);
        }
        var info = (IModel)model;
        ModelFile.Loaded? teacher = spec.Teacher is null ? null : ModelFile.Load(spec.Teacher);
        var norm = Normalization.Of(data.Train);
        log?.Invoke($"{spec.Model.Describe()}: {model.ParameterCount():N0} parameters, {info.MacsPerImage() / 1e6:F1} M MACs per image");
        log?.Invoke($"data {data.Name}: {data.Train.Count} train / {data.Test.Count} test images, {data.Train.Classes} classes");
        if (world.IsDistributed) log?.Invoke($"data parallel over {world.Size} ranks: global batch {spec.Options.BatchSize}, about {spec.Options.BatchSize / world.Size} images per rank");
        var trainer = new Trainer(spec.Options) { RunDir = world.IsRoot ? runDir : null, Observer = observer, Device = device, World = world };
        List<EpochMetrics> history;
        string modelPath;
        try
        {
            using var objective = ObjectiveRegistry.Registry.Find(spec.Objective ?? ObjectiveRegistry.Default).Create(new ObjectiveContext(spec.Options, model, norm, data, teacher) { Settings = spec.ObjectiveSettings });
            history = trainer.Fit(model, objective, data, norm, resume);
            model.to(torch.CPU);
            objective.MoveTo(torch.CPU);
            var provenance = new Dictionary<string, string>(objective.Provenance)
            {
                ["data"] = spec.Data,
                ["images_seen"] = history[^1].ImagesSeen.ToString(),
                ["seed"] = spec.Options.Seed.ToString(),
                ["teacher"] = spec.Teacher ?? "",
                ["init"] = spec.Init ?? "",
            };
            if (history[^1].Test.TryGetValue("accuracy", out var accuracy)) provenance["test_accuracy"] = accuracy.ToString("R");
            if (!world.IsRoot) modelPath = Path.Combine(runDir, method is null ? ModelName : GeneName); // rank 0 writes it
            else if (method is null)
            {
                modelPath = Path.Combine(runDir, ModelName);
                var deployed = objective.Deployed(model);
                ModelFile.Save(modelPath, deployed, (IModel)deployed, norm, data.Train.ClassNames, provenance);
            }
            else
            {
                modelPath = Path.Combine(runDir, GeneName);
                var auxiliary = (Classifier)model;
                LearngeneFile.Save(modelPath, method.Extract(auxiliary), new LearngeneInfo
                {
                    Method = method.Name, Architecture = (VitConfig)auxiliary.Config, SourceData = spec.Data, ClassNames = data.Train.ClassNames.ToArray(),
                    Normalization = norm, Teacher = spec.Teacher ?? "", ImagesSeen = history[^1].ImagesSeen, Seed = spec.Options.Seed,
                    MethodSettings = method.SettingsOf(auxiliary),
                });
            }
        }
        catch { Release(model, teacher, data, cache); throw; }
        var result = new RunResult(runDir, modelPath, spec.Model, model.ParameterCount(), info.MacsPerImage(), history);
        Release(model, teacher, data, cache);
        // The other ranks go on once rank 0 has written the model: what follows may read it.
        world.Barrier();
        return result;
    }

    /// <summary>The network a run without an init starts from, at random: its method's auxiliary model when it
    /// learns a learngene, else its model family's network (a classifier, or another kind such as a DiT).</summary>
    public static nn.Module Build(RunSpec spec) =>
        spec.Method is string name && LearngeneMethods.FindAuxiliary(name) is var method
            ? method.CreateAuxiliary(Vit(spec.Model, method.Name), spec.MethodSettings)
            : ModelFamilies.Registry.Find(spec.Model.Validate().Family).Build(spec.Model);

    /// <summary>The run's named initializer with the run's settings for it.</summary>
    static IInitializer Initializer(RunSpec spec) => Initializers.Configured(spec.Init!, new GivenSettings(spec.InitSettings ?? []));

    /// <summary>A descendant made by a named initializer (the ancestry loaded for it and freed after).</summary>
    public static Classifier Initialize(IInitializer initializer, RunSpec spec, ImageDataset train)
    {
        if (initializer.NeedsAncestry && spec.Ancestry is null)
            throw new LearngeneException($"initializer {initializer.Name} needs an ancestry model", setting: "ancestry");
        var ancestry = spec.Ancestry is null ? null : ModelFile.Load(spec.Ancestry);
        try
        {
            return initializer.Create(Vit(spec.Model, $"initializer {initializer.Name}"), new InitContext
            {
                Ancestry = ancestry, AncestryPath = spec.Ancestry ?? "", SameLabelSpace = spec.SameLabelSpace,
                Data = train, Seed = spec.Options.Seed,
            });
        }
        finally { ancestry?.Model.Dispose(); }
    }

    /// <summary>Frees a finished run's native memory on this thread (see <see cref="Native"/>); the cached
    /// full data sets stay.</summary>
    static void Release(nn.Module model, ModelFile.Loaded? teacher, DataSplits data, DataCache cache)
    {
        model.Dispose();
        teacher?.Model.Dispose();
        cache.Release(data);
        Native.CollectGarbage();
    }

    /// <summary>The run's architecture as a ViT, or a clear error for another family.</summary>
    static VitConfig Vit(ModelConfig model, string what) =>
        model as VitConfig ?? throw new LearngeneException($"{what} makes ViTs, not {model.Family} models", setting: "model");

    /// <summary>The device a run asks for; under data parallelism each rank of a node takes its own GPU
    /// (local rank modulo the node's GPUs).</summary>
    public static torch.Device ResolveDevice(string name, World? world = null) => name.ToLowerInvariant() switch
    {
        "cpu" => torch.CPU,
        "cuda" when torch.cuda.is_available() && world is { IsDistributed: true } => torch.device(DeviceType.CUDA, World.LocalRank() % torch.cuda.device_count()),
        "cuda" when torch.cuda.is_available() => torch.CUDA,
        "cuda" => throw new LearngeneException("device cuda was asked for but CUDA is not available (this build uses TorchSharp-cpu; reference libtorch-cuda to use a GPU)", setting: "device"),
        _ => throw new LearngeneException($"unknown device '{name}' (expected cpu or cuda)", setting: "device"),
    };
}
