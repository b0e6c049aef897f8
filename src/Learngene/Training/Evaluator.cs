using Learngene.Data;
using Learngene.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Training;

public static class Evaluator
{
    /// <summary>Mean cross-entropy and accuracy (in [0, 1]) of a model on a data set, in eval mode.</summary>
    public static (double Loss, double Accuracy) Evaluate(nn.Module<Tensor, Tensor> model, ImageDataset data, Normalization norm, int batchSize = 500, Device? device = null)
    {
        bool wasTraining = model.training;
        model.eval();
        double lossSum = 0;
        long correct = 0;
        using (torch.no_grad())
        {
            var loader = new BatchLoader(data, norm, batchSize, shuffle: false, augment: false, seed: 0, epoch: 0, device);
            using var it = loader.Batches().GetEnumerator();
            while (true)
            {
                using var scope = torch.NewDisposeScope();
                if (!it.MoveNext()) break;
                var (x, y) = it.Current;
                var logits = model.forward(x);
                lossSum += nn.functional.cross_entropy(logits, y, reduction: nn.Reduction.Sum).item<float>();
                correct += logits.argmax(1).eq(y).sum().item<long>();
            }
        }
        if (wasTraining) model.train();
        return (lossSum / Math.Max(1, data.Count), (double)correct / Math.Max(1, data.Count));
    }
}
