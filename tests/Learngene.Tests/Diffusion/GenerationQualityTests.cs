using Learngene.IO;
using Learngene.Metrics;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Tests.Diffusion;

/// <summary>FD-clf and accuracy on samples, with a classifier of the project (the ResNet fixture trained on MNIST).</summary>
public class GenerationQualityTests
{
    [Fact]
    public void Real_images_are_nearer_real_images_than_noise_is_and_class_accuracy_agrees_with_the_classifiers_accuracy()
    {
        using var scope = torch.NewDisposeScope();
        var loaded = ModelFile.Load(Path.Combine(AppContext.BaseDirectory, "Fixtures", "resnet-smoke-before-families.safetensors"));
        using var model = loaded.Model;
        var quality = new GenerationQuality(model, loaded.Normalization);
        using var test = TestData.Mnist.Test.Subset(1000, 0);
        var images = test.Images.to_type(ScalarType.Float32) / 255f;
        var (a, b) = (images[..500], images[500..]);
        double realVsReal = quality.FdClf(a, b);
        double noiseVsReal = quality.FdClf(torch.rand_like(a), b);
        Assert.True(realVsReal * 5 < noiseVsReal, $"FD-clf real/real {realVsReal:G4}, noise/real {noiseVsReal:G4}");
        Assert.Equal(0, quality.FdClf(a, a), 6);

        // On real images labelled with their classes, the mean over images of the per-class hit rates is the
        // classifier's accuracy (0.16 on these 500 images, OldFilesTests).
        var labels = test.Labels[..500];
        var perClass = quality.ClassAccuracy(a, labels);
        var counts = labels.bincount(null, 10).data<long>().ToArray();
        double overall = perClass.Sum(kv => kv.Value * counts[kv.Key]) / 500.0;
        Assert.Equal(0.16, overall, 6);
        Assert.All(perClass.Values, v => Assert.InRange(v, 0, 1));
    }
}
