using System.Text.Json;
using Learngene.Data;
using Learngene.Diffusion;
using Learngene.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Training.Objectives;

/// <summary>Denoising diffusion training (DiT's <c>training_losses(model, x, t, y)</c>): images scaled to
/// [−1, 1], a step t drawn uniformly per image, x_t from the closed-form forward process, and the mean
/// squared error between the network's output and the target (v or ε). The loop knows nothing of this; the
/// network knows nothing of diffusion. Metric: loss. Evaluation: the same loss on the test images at steps
/// and noise drawn from a fixed seed, so epochs compare.</summary>
public sealed class DiffusionObjective(NoiseSchedule schedule, Prediction kind, Normalization dataNorm, int seed = 0) : IObjective
{
    public sealed record Settings(string Prediction = "velocity", int Steps = 1000);

    public static readonly ObjectiveKind Kind = new("diffusion",
        "denoising diffusion: MSE between a DiT's output and the v- (default) or ε-target at a uniformly drawn step", Create);

    static IObjective Create(ObjectiveContext c)
    {
        if (c.Model is not DiffusionTransformer) throw new LearngeneException("diffusion training needs a diffusion transformer (a dit model)", setting: "model");
        Settings settings;
        try { settings = c.Settings is null ? new Settings() : JsonSerializer.Deserialize<Settings>(c.Settings, ModelConfig.Json)!; }
        catch (JsonException) { throw new LearngeneException($"diffusion settings '{c.Settings}' do not parse"); }
        return new DiffusionObjective(new NoiseSchedule(settings.Steps), ParsePrediction(settings.Prediction), c.DataNormalization, c.Options.Seed);
    }

    public static Prediction ParsePrediction(string name) => name.ToLowerInvariant() switch
    {
        "velocity" or "v" => Prediction.Velocity,
        "noise" or "eps" or "epsilon" => Prediction.Noise,
        _ => throw new LearngeneException($"unknown prediction '{name}' (expected velocity or noise)", setting: "prediction"),
    };

    /// <summary>Normalized images back to [−1, 1], the range the diffusion runs in.</summary>
    public Tensor ToModelRange(Tensor normalized) => dataNorm.Invert(normalized) * 2 - 1;

    Tensor Loss(nn.Module model, Tensor images, Tensor labels, Generator? generator)
    {
        var x0 = ToModelRange(images);
        var t = torch.randint(0, schedule.Steps, [x0.shape[0]], generator: generator, dtype: int64).to(x0.device);
        var noise = torch.randn(x0.shape, generator: generator).to(x0.device);
        var xt = schedule.AddNoise(x0, t, noise);
        var output = ((DiffusionTransformer)model).forward(xt, t, labels);
        return nn.functional.mse_loss(output, schedule.Target(kind, x0, t, noise));
    }

    public ObjectiveStep Step(nn.Module model, Tensor images, Tensor labels)
    {
        var loss = Loss(model, images, labels, null);
        long n = images.shape[0];
        return new ObjectiveStep(loss, n, new Dictionary<string, double> { ["loss"] = loss.item<float>() * n });
    }

    public IReadOnlyDictionary<string, double> Evaluate(nn.Module model, ImageDataset data, Normalization norm, int batchSize, Device device)
    {
        model.eval();
        using var generator = new Generator((ulong)seed + 12345);
        double sum = 0;
        long count = 0;
        using (torch.no_grad())
            foreach (var (x, y) in new BatchLoader(data, norm, batchSize, shuffle: false, augment: false, seed, 0, device).Batches())
            {
                using var scope = torch.NewDisposeScope();
                sum += Loss(model, x, y, generator).item<float>() * x.shape[0];
                count += x.shape[0];
            }
        return new Dictionary<string, double> { ["loss"] = sum / Math.Max(1, count) };
    }

    public void Dispose() { }
}
