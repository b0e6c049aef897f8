using System.Text.Json;
using Learngene.Data;
using Learngene.Diffusion;
using Learngene.IO;
using Learngene.Metrics;
using Learngene.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Training.Objectives;

/// <summary>Denoising diffusion training (DiT's <c>training_losses(model, x, t, y)</c>): images scaled to
/// [−1, 1], a step t drawn uniformly per image, x_t from the closed-form forward process, labels dropped to
/// the null class with the model's probability, and the mean squared error between the network's output and
/// the target (v or ε). It keeps an exponential moving average of the weights (what sampling uses) and its
/// step count as its own state, saved in checkpoints; every draw comes from a generator seeded by the seed
/// and the step, so a resumed run trains exactly as an uninterrupted one. Metrics: loss; on test images
/// (steps and noise from a fixed seed, so epochs compare) loss and ema_loss.</summary>
public sealed class DiffusionObjective : IObjective
{
    /// <summary>The target, the diffusion's step count and the EMA decay (DiT: 0.9999 over 400K steps; a
    /// CPU run of a few thousand steps needs a shorter memory, so presets set it).</summary>
    public sealed record Settings(string Prediction = "velocity", int Steps = 1000, double EmaDecay = 0.9999)
    {
        /// <summary>A classifier model file trained on the same classes: with it, each epoch also draws
        /// <see cref="EvalPerClass"/> samples per class from the average and reports FD-clf against the test
        /// images and the classifier's accuracy on them. Null: losses only.</summary>
        public string? Judge { get; init; }
        public int EvalPerClass { get; init; } = 20;
        /// <summary>How the per-epoch samples (and the logged grid) are drawn.</summary>
        public SamplingRecipe Sampling { get; init; } = new();
        /// <summary>Warm the EMA's decay up with the step count (<see cref="Ema.Update(long)"/>); off: DiT's fixed decay.</summary>
        public bool EmaWarmup { get; init; } = true;
        /// <summary>Samples per class in the grid logged to TensorBoard each epoch (0: none).</summary>
        public int GridPerClass { get; init; } = 8;
    }

    public static readonly ObjectiveFactory Factory = new("diffusion",
        "denoising diffusion: MSE between a DiT's output and the v- (default) or ε-target at a uniformly drawn step; keeps an EMA of the weights", Create);

    readonly NoiseSchedule schedule;
    readonly Prediction target;
    readonly Normalization dataNorm;
    readonly int seed;
    readonly State state;
    readonly Ema ema;
    readonly Settings settings;
    readonly ModelFile.Loaded? judge;
    readonly GenerationQuality? quality;
    // The test images' judge features (computed once per data set) and the last epoch's samples.
    (ImageDataset Data, Tensor Features)? real;
    Tensor? lastSamples;

    /// <summary>Grids show at most this many classes (a 1000-class model's grid would be unreadable).</summary>
    const int GridClasses = 16;

    /// <summary>The weight average (a frozen copy of the network) and the step count, as one module.</summary>
    sealed class State : nn.Module
    {
        public readonly DiffusionTransformer average;

        public State(DiffusionTransformer model) : base("state")
        {
            average = new DiffusionTransformer(model.Architecture);
            foreach (var p in average.parameters()) p.requires_grad = false; // averaged, never trained
            register_buffer("steps", torch.zeros(1, dtype: int64));
            RegisterComponents();
        }

        /// <summary>Looked up each time: loading a checkpoint may replace the registered tensor.</summary>
        public Tensor Steps => named_buffers().Single(b => b.name == "steps").buffer;
    }

    public DiffusionObjective(DiffusionTransformer model, NoiseSchedule schedule, Prediction target, Normalization dataNorm, int seed = 0, double emaDecay = 0.9999,
        Settings? settings = null, ModelFile.Loaded? judge = null)
    {
        this.schedule = schedule;
        this.target = target;
        this.dataNorm = dataNorm;
        this.seed = seed;
        this.settings = (settings ?? new Settings()) with { EmaDecay = emaDecay };
        this.settings.Sampling.Validate();
        if (this.settings.EvalPerClass < 0 || this.settings.GridPerClass < 0) throw new LearngeneException("samples per class must not be negative", setting: "eval-per-class");
        this.judge = judge;
        quality = judge is null ? null : new GenerationQuality(judge.Model, judge.Normalization);
        state = new State(model);
        ema = new Ema(model, state.average, emaDecay);
        ema.Reset();
    }

    static IObjective Create(ObjectiveContext c)
    {
        var model = c.Model as DiffusionTransformer ?? throw new LearngeneException("diffusion training needs a diffusion transformer (a dit model)", setting: "model");
        if (model.Architecture.LearnSigma)
            throw new LearngeneException("training a learned variance (learn_sigma) needs DiT's variational-bound term, which is not implemented; such a model can be sampled, not trained", setting: "model");
        Settings settings;
        try { settings = c.Settings is null ? new Settings() : JsonSerializer.Deserialize<Settings>(c.Settings, ModelConfig.Json)!; }
        catch (JsonException) { throw new LearngeneException($"diffusion settings '{c.Settings}' do not parse"); }
        ModelFile.Loaded? judge = null;
        if (settings.Judge is string path)
        {
            if (!File.Exists(path)) throw new LearngeneException($"{path}: no such file (the judge classifier)", setting: "judge");
            judge = ModelFile.Load(path);
            if (judge.Model.Config.ImageSize != c.Data.Train.ImageSize || judge.Model.Config.Channels != c.Data.Train.Channels)
            {
                judge.Model.Dispose();
                throw new LearngeneException($"the judge {path} reads {judge.Model.Config.Channels}×{judge.Model.Config.ImageSize}×{judge.Model.Config.ImageSize} images, the model draws {c.Data.Train.Channels}×{c.Data.Train.ImageSize}×{c.Data.Train.ImageSize}", setting: "judge");
            }
            if (!judge.ClassNames.SequenceEqual(c.Data.Train.ClassNames))
            {
                judge.Model.Dispose();
                throw new LearngeneException($"the judge {path} classifies [{string.Join(", ", judge.ClassNames)}], not this data's classes [{string.Join(", ", c.Data.Train.ClassNames)}]", setting: "judge");
            }
        }
        return new DiffusionObjective(model, new NoiseSchedule(settings.Steps), ParsePrediction(settings.Prediction), c.DataNormalization, c.Options.Seed, settings.EmaDecay, settings, judge);
    }

    public static Prediction ParsePrediction(string name) => name.ToLowerInvariant() switch
    {
        "velocity" or "v" => Prediction.Velocity,
        "noise" or "eps" or "epsilon" => Prediction.Noise,
        _ => throw new LearngeneException($"unknown prediction '{name}' (expected velocity or noise)", setting: "prediction"),
    };

    /// <summary>The weight average, for sampling and for the saved model.</summary>
    public DiffusionTransformer Average => state.average;

    public nn.Module? Own => state;

    public nn.Module Deployed(nn.Module trained) => state.average;

    public IReadOnlyDictionary<string, string> Provenance => new Dictionary<string, string>
    {
        [DiffusionFile.PredictionKey] = target == Prediction.Velocity ? "velocity" : "noise",
        [DiffusionFile.StepsKey] = schedule.Steps.ToString(),
    };

    /// <summary>Normalized images back to [−1, 1], the range the diffusion runs in.</summary>
    public Tensor ToModelRange(Tensor normalized) => dataNorm.Invert(normalized) * 2 - 1;

    Tensor Loss(DiffusionTransformer model, Tensor images, Tensor labels, Generator generator, bool dropLabels, BatchShard? shard = null)
    {
        var x0 = ToModelRange(images);
        long n = x0.shape[0];
        // Drawn for the whole global batch, this shard's rows kept: data-parallel ranks draw what one process would.
        var s = shard ?? BatchShard.Whole(n);
        var t = s.Rows(torch.randint(0, schedule.Steps, [s.Total], generator: generator, dtype: int64), n).to(x0.device);
        var noise = s.Rows(torch.randn([s.Total, .. x0.shape[1..]], generator: generator), n).to(x0.device);
        var drop = dropLabels ? s.Rows(torch.rand([s.Total], generator: generator) < model.Architecture.ClassDropout, n).to(x0.device) : torch.zeros([n], dtype: ScalarType.Bool, device: x0.device);
        var output = model.Forward(schedule.AddNoise(x0, t, noise), t, labels, drop);
        return nn.functional.mse_loss(output, schedule.Target(target, x0, t, noise));
    }

    public ObjectiveStep Step(nn.Module model, Tensor images, Tensor labels) => Step(model, images, labels, BatchShard.Whole(images.shape[0]));

    public ObjectiveStep Step(nn.Module model, Tensor images, Tensor labels, BatchShard shard)
    {
        long step = state.Steps.item<long>();
        using var generator = new Generator(unchecked((ulong)seed * 1_000_003UL + (ulong)step));
        var network = (DiffusionTransformer)model;
        var loss = Loss(network, images, labels, generator, dropLabels: true, shard);
        var total = network.Penalty() is { } penalty ? loss + penalty : loss;
        state.Steps.add_(1);
        long n = images.shape[0];
        return new ObjectiveStep(total, n, new Dictionary<string, double> { ["loss"] = loss.item<float>() * n });
    }

    public void StepWithoutRows() => state.Steps.add_(1);

    public void AfterUpdate(nn.Module model)
    {
        if (settings.EmaWarmup) ema.Update(state.Steps.item<long>());
        else ema.Update();
    }

    public IReadOnlyDictionary<string, double> Evaluate(nn.Module model, ImageDataset data, Normalization norm, int batchSize, Device device)
    {
        var metrics = new Dictionary<string, double>();
        foreach (var (name, net) in new[] { ("loss", (DiffusionTransformer)model), ("ema_loss", state.average) })
            metrics[name] = data.Count == 0 ? 0 : DenoisingLoss.PerImage(net, data, schedule, target, seed + 12345, device).Average(v => (double)v);
        if (quality is not null && settings.EvalPerClass > 0) JudgeSamples(data, metrics);
        return metrics;
    }

    /// <summary>FD-clf and accuracy on samples of every class, drawn from the average with a fixed seed so
    /// that epochs are compared on the same noise.</summary>
    void JudgeSamples(ImageDataset test, Dictionary<string, double> metrics)
    {
        if (real is not { } r || !ReferenceEquals(r.Data, test))
        {
            real?.Features.Dispose();
            using var pixels = GenerationQuality.Pixels(test);
            real = (test, quality!.Features(pixels).DetachFromDisposeScope());
        }
        var classes = Enumerable.Range(0, state.average.Architecture.Classes).Select(k => (long)k).ToArray();
        var (images, labels) = ClassSamples.Draw(state.average, schedule, target, classes, settings.EvalPerClass, settings.Sampling, seed + 777);
        using (labels)
        {
            metrics["fd_clf"] = quality!.FdClfAgainst(images, real.Value.Features);
            var accuracy = quality.ClassAccuracy(images, labels);
            metrics["sample_accuracy"] = accuracy.Values.Average();
            metrics["sample_accuracy_min"] = accuracy.Values.Min();
        }
        lastSamples?.Dispose();
        lastSamples = images.DetachFromDisposeScope();
    }

    /// <summary>A grid of samples, one row per class: the last evaluation's, or drawn now.</summary>
    public IReadOnlyDictionary<string, Tensor>? Figures(nn.Module model)
    {
        int perRow = settings.GridPerClass;
        if (perRow == 0) return null;
        int classes = Math.Min(GridClasses, state.average.Architecture.Classes);
        Tensor rows;
        if (lastSamples is not null && settings.EvalPerClass >= perRow) rows = SampleGrid.Rows(lastSamples, classes, settings.EvalPerClass, perRow);
        else
        {
            var (images, labels) = ClassSamples.Draw(state.average, schedule, target, Enumerable.Range(0, classes).Select(k => (long)k).ToArray(), perRow, settings.Sampling, seed + 777);
            labels.Dispose();
            rows = images;
        }
        using (rows) return new Dictionary<string, Tensor> { ["samples"] = ImageFiles.Grid(rows, perRow) };
    }

    public void Dispose()
    {
        state.Dispose();
        judge?.Model.Dispose();
        real?.Features.Dispose();
        lastSamples?.Dispose();
    }
}
