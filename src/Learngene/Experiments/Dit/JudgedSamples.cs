using Learngene.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Experiments.Dit;

/// <summary>A model's judged samples: their scores, the images and labels, and what comparisons between models
/// need — the judge's features of every sample (for FD-clf over pooled or resampled sets) and the denoising loss
/// of every test image (the same t and noise for every model, so losses pair image by image).</summary>
public sealed record JudgedSamples(SampleScores Scores, Tensor Images, Tensor Labels, Tensor Features, float[] TestLosses) : IDisposable
{
    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
        Features.Dispose();
    }

    /// <summary>The evidence as one safetensors file beside a cell's final scores.</summary>
    public static void SaveEvidence(string path, Tensor features, float[] testLosses)
    {
        using var losses = torch.tensor(testLosses);
        using var f = features.to(float32);
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["sample_features"] = f, ["test_losses"] = losses });
    }

    /// <summary>Features [N, D] as float64 and the per-image test losses.</summary>
    public static (Tensor Features, double[] TestLosses) LoadEvidence(string path)
    {
        if (!File.Exists(path)) throw new LearngeneException($"{path}: no such file (the samples' features and test losses of a judged model; re-run the experiment to make it)");
        var (tensors, _) = SafeTensors.Load(path);
        using var losses = tensors["test_losses"];
        using var features = tensors["sample_features"];
        return (features.to(float64), losses.to(float64).data<double>().ToArray());
    }
}
