using System.Text.Json;
using Learngene.Data;
using Learngene.Diffusion;
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
    public sealed record Settings(string Prediction = "velocity", int Steps = 1000, double EmaDecay = 0.9999);

    public static readonly ObjectiveKind Kind = new("diffusion",
        "denoising diffusion: MSE between a DiT's output and the v- (default) or ε-target at a uniformly drawn step; keeps an EMA of the weights", Create);

    readonly NoiseSchedule schedule;
    readonly Prediction kind;
    readonly Normalization dataNorm;
    readonly int seed;
    readonly State state;
    readonly Ema ema;

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

    public DiffusionObjective(DiffusionTransformer model, NoiseSchedule schedule, Prediction kind, Normalization dataNorm, int seed = 0, double emaDecay = 0.9999)
    {
        this.schedule = schedule;
        this.kind = kind;
        this.dataNorm = dataNorm;
        this.seed = seed;
        state = new State(model);
        ema = new Ema(model, state.average, emaDecay);
        ema.Reset();
    }

    static IObjective Create(ObjectiveContext c)
    {
        var model = c.Model as DiffusionTransformer ?? throw new LearngeneException("diffusion training needs a diffusion transformer (a dit model)", setting: "model");
        Settings settings;
        try { settings = c.Settings is null ? new Settings() : JsonSerializer.Deserialize<Settings>(c.Settings, ModelConfig.Json)!; }
        catch (JsonException) { throw new LearngeneException($"diffusion settings '{c.Settings}' do not parse"); }
        return new DiffusionObjective(model, new NoiseSchedule(settings.Steps), ParsePrediction(settings.Prediction), c.DataNormalization, c.Options.Seed, settings.EmaDecay);
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

    /// <summary>Normalized images back to [−1, 1], the range the diffusion runs in.</summary>
    public Tensor ToModelRange(Tensor normalized) => dataNorm.Invert(normalized) * 2 - 1;

    Tensor Loss(DiffusionTransformer model, Tensor images, Tensor labels, Generator generator, bool dropLabels)
    {
        var x0 = ToModelRange(images);
        long n = x0.shape[0];
        var t = torch.randint(0, schedule.Steps, [n], generator: generator, dtype: int64).to(x0.device);
        var noise = torch.randn(x0.shape, generator: generator).to(x0.device);
        var drop = dropLabels ? (torch.rand([n], generator: generator) < model.Architecture.ClassDropout).to(x0.device) : torch.zeros([n], dtype: ScalarType.Bool, device: x0.device);
        var output = model.Forward(schedule.AddNoise(x0, t, noise), t, labels, drop);
        return nn.functional.mse_loss(output, schedule.Target(kind, x0, t, noise));
    }

    public ObjectiveStep Step(nn.Module model, Tensor images, Tensor labels)
    {
        long step = state.Steps.item<long>();
        using var generator = new Generator(unchecked((ulong)seed * 1_000_003UL + (ulong)step));
        var loss = Loss((DiffusionTransformer)model, images, labels, generator, dropLabels: true);
        state.Steps.add_(1);
        long n = images.shape[0];
        return new ObjectiveStep(loss, n, new Dictionary<string, double> { ["loss"] = loss.item<float>() * n });
    }

    public void AfterUpdate(nn.Module model) => ema.Update();

    public IReadOnlyDictionary<string, double> Evaluate(nn.Module model, ImageDataset data, Normalization norm, int batchSize, Device device)
    {
        var metrics = new Dictionary<string, double>();
        foreach (var (name, net) in new[] { ("loss", (DiffusionTransformer)model), ("ema_loss", state.average) })
        {
            net.eval();
            using var generator = new Generator((ulong)seed + 12345);
            double sum = 0;
            long count = 0;
            using (torch.no_grad())
                foreach (var (x, y) in new BatchLoader(data, norm, batchSize, shuffle: false, augment: false, seed, 0, device).Batches())
                {
                    using var scope = torch.NewDisposeScope();
                    sum += Loss(net, x, y, generator, dropLabels: false).item<float>() * x.shape[0];
                    count += x.shape[0];
                }
            metrics[name] = sum / Math.Max(1, count);
        }
        return metrics;
    }

    public void Dispose() => state.Dispose();
}
