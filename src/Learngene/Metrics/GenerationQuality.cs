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
        using var a = Features(generated01);
        using var b = Features(real01);
        return FrechetDistance.Between(a, b);
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
