using Learngene.Data;
using Learngene.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Metrics;

/// <summary>How good generated images are, judged by a classifier trained on the real data: FD-clf, the
/// Fréchet distance between its penultimate features on generated and on real images (the FID formula on
/// another network's features, so never called FID), and its accuracy on the generated images of each
/// requested class. Images are given in [0, 1], [N, C, H, W]; the classifier's own normalization applies.</summary>
public sealed class GenerationQuality(Classifier classifier, Normalization norm, int batchSize = 500)
{
    /// <summary>Penultimate features of images in [0, 1], in batches, without gradients.</summary>
    public Tensor Features(Tensor images01)
    {
        classifier.eval();
        var chunks = new List<Tensor>();
        using (torch.no_grad())
            for (long start = 0; start < images01.shape[0]; start += batchSize)
            {
                using var scope = torch.NewDisposeScope();
                var batch = images01.narrow(0, start, Math.Min(batchSize, images01.shape[0] - start));
                chunks.Add(classifier.Features(norm.Apply(batch)).to(float64).MoveToOuterDisposeScope());
            }
        var all = torch.cat(chunks, 0);
        foreach (var c in chunks) c.Dispose();
        return all;
    }

    public double FdClf(Tensor generated01, Tensor real01)
    {
        using var b = Features(real01);
        return FdClfAgainst(generated01, b);
    }

    /// <summary>FD-clf against real images whose features were computed once (<see cref="Features"/>).</summary>
    public double FdClfAgainst(Tensor generated01, Tensor realFeatures)
    {
        using var a = Features(generated01);
        return FrechetDistance.Between(a, realFeatures);
    }

    /// <summary>A data set's images in [0, 1].</summary>
    public static Tensor Pixels(ImageDataset data)
    {
        var pixels = data.Images.to_type(ScalarType.Float32);
        return pixels.div_(255f); // in place: no float copy left to the finalizer thread
    }

    /// <summary>The reference rows: FD-clf of <paramref name="count"/> real training images (a subset seeded by
    /// <paramref name="seed"/>), and of as many images of uniform noise, against the real test images — what a
    /// perfect generator reaches at this sample count, and what no generator at all scores.</summary>
    public (double TrainVsTest, double NoiseVsTest) References(ImageDataset train, FrechetDistance.Reference test, int count, int seed)
    {
        using var scope = torch.NewDisposeScope();
        var subset = train.Subset(Math.Min(count, train.Count), seed);
        var pixels = Pixels(subset);
        if (!ReferenceEquals(subset, train)) subset.Dispose(); // Subset returns the set itself when it asks for all
        using var generator = new Generator((ulong)seed);
        var noise = torch.rand(pixels.shape, generator: generator);
        return (FrechetDistance.Against(test, Features(pixels)), FrechetDistance.Against(test, Features(noise)));
    }

    /// <summary>The share of each requested class's samples the classifier labels as that class.</summary>
    public Dictionary<long, double> ClassAccuracy(Tensor generated01, Tensor requested)
    {
        classifier.eval();
        var hits = new Dictionary<long, (long Hit, long Count)>();
        using (torch.no_grad())
            for (long start = 0; start < generated01.shape[0]; start += batchSize)
            {
                using var scope = torch.NewDisposeScope();
                long n = Math.Min(batchSize, generated01.shape[0] - start);
                var predicted = classifier.forward(norm.Apply(generated01.narrow(0, start, n))).argmax(1).data<long>().ToArray();
                var wanted = requested.narrow(0, start, n).data<long>().ToArray();
                for (int i = 0; i < n; i++)
                {
                    var (h, c) = hits.GetValueOrDefault(wanted[i]);
                    hits[wanted[i]] = (h + (predicted[i] == wanted[i] ? 1 : 0), c + 1);
                }
            }
        return hits.OrderBy(kv => kv.Key).ToDictionary(kv => kv.Key, kv => (double)kv.Value.Hit / kv.Value.Count);
    }
}
