using Learngene.Data;
using Learngene.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Training.Objectives;

/// <summary>Image classification: cross-entropy with label smoothing, mixed with distillation from a frozen
/// teacher when the recipe asks for it (<c>(1 − α)·CE + α·KD</c>, DeiT's soft or hard KD). Metrics:
/// "loss" and "accuracy" (arg-max hits).</summary>
public sealed class Classification : IObjective
{
    public static readonly ObjectiveFactory Factory = new("classification",
        "cross-entropy with label smoothing; optional soft or hard distillation from a teacher", Create);

    readonly TrainOptions options;
    readonly nn.Module<Tensor, Tensor>? teacher;
    readonly Normalization? teacherNorm;
    readonly Normalization dataNorm;

    public Classification(TrainOptions options, Normalization dataNorm, nn.Module<Tensor, Tensor>? teacher = null, Normalization? teacherNorm = null)
    {
        if (options.Distill != "none" && teacher is null) throw new LearngeneException($"distillation '{options.Distill}' needs a teacher model", setting: "teacher");
        this.options = options;
        this.dataNorm = dataNorm;
        this.teacher = teacher;
        this.teacherNorm = teacherNorm;
        teacher?.eval();
    }

    static IObjective Create(ObjectiveContext c)
    {
        if (c.Model is not Classifier)
            throw new LearngeneException($"classification trains image classifiers, not a {((IModel)c.Model).Config.Family} model (a dit trains with 'learngene diffusion train')", setting: "model");
        if (c.Model is IModel m && c.Data.Train.Classes != m.Config.Classes)
            throw new LearngeneException($"the model has {m.Config.Classes} classes but {c.Data.Name} has {c.Data.Train.Classes}");
        return new Classification(c.Options, c.DataNormalization, c.Teacher?.Model, c.Teacher?.Normalization);
    }

    public void MoveTo(Device device) => teacher?.to(device);

    static Tensor Logits(nn.Module model, Tensor images) =>
        (model as nn.Module<Tensor, Tensor> ?? throw new LearngeneException($"classification needs a model that maps images to logits, not a {model.GetType().Name}")).forward(images);

    public ObjectiveStep Step(nn.Module model, Tensor images, Tensor labels)
    {
        var logits = Logits(model, images);
        var loss = Loss(logits, images, labels);
        long n = images.shape[0];
        long hits = logits.argmax(1).eq(labels).sum().item<long>();
        return new ObjectiveStep(loss, n, new Dictionary<string, double> { ["loss"] = loss.item<float>() * n, ["accuracy"] = hits });
    }

    Tensor Loss(Tensor logits, Tensor images, Tensor labels)
    {
        var ce = Losses.CrossEntropy(logits, labels, options.LabelSmoothing);
        if (options.Distill == "none" || teacher is null) return ce;
        Tensor teacherLogits;
        using (torch.no_grad())
        {
            teacherLogits = teacher.forward(dataNorm.Renormalize(images, teacherNorm)); // the teacher's own statistics
        }
        var kd = options.Distill == "soft"
            ? Losses.SoftDistillation(logits, teacherLogits, options.Temperature)
            : Losses.HardDistillation(logits, teacherLogits);
        return (1 - options.DistillAlpha) * ce + options.DistillAlpha * kd;
    }

    public IReadOnlyDictionary<string, double> Evaluate(nn.Module model, ImageDataset data, Normalization norm, int batchSize, Device device)
    {
        var e = Predict((nn.Module<Tensor, Tensor>)model, data, norm, batchSize, device);
        Predictions = new TestPredictions(e.Labels, new Dictionary<string, int[]> { ["accuracy"] = e.Predicted });
        return new Dictionary<string, double> { ["loss"] = e.Loss, ["accuracy"] = e.Accuracy };
    }

    public TestPredictions? Predictions { get; private set; }

    /// <summary>Images per forward pass in evaluation (the loader's batch is split into these).</summary>
    const int ForwardChunk = 100;

    /// <summary>Mean cross-entropy and accuracy (in [0, 1]) of a classifier on a data set, in eval mode.</summary>
    public static (double Loss, double Accuracy) Evaluate(nn.Module<Tensor, Tensor> model, ImageDataset data, Normalization norm, int batchSize = 500, Device? device = null)
    {
        var e = Predict(model, data, norm, batchSize, device);
        return (e.Loss, e.Accuracy);
    }

    /// <summary>What a classifier's evaluation measured: mean loss, accuracy, and per image (in the data set's
    /// order) the predicted class and the label.</summary>
    public sealed record Evaluation(double Loss, double Accuracy, int[] Predicted, int[] Labels);

    /// <summary>Mean cross-entropy, accuracy and each image's predicted class, in eval mode.</summary>
    public static Evaluation Predict(nn.Module<Tensor, Tensor> model, ImageDataset data, Normalization norm, int batchSize = 500, Device? device = null)
    {
        bool wasTraining = model.training;
        model.eval();
        double lossSum = 0;
        long correct = 0;
        var predicted = new List<int>(data.Count);
        var labels = new List<int>(data.Count);
        using (torch.no_grad())
        {
            var loader = new BatchLoader(data, norm, batchSize, shuffle: false, augment: false, seed: 0, epoch: 0, device);
            using var it = loader.Batches().GetEnumerator();
            while (true)
            {
                using var scope = torch.NewDisposeScope();
                if (!it.MoveNext()) break;
                var (x, y) = it.Current;
                // In chunks, each in its own scope: a dispose scope keeps every intermediate of a forward pass
                // alive until it closes, and a convolutional network's for 500 images is most of a gigabyte.
                for (long start = 0; start < x.shape[0]; start += ForwardChunk)
                {
                    using var inner = torch.NewDisposeScope();
                    long n = Math.Min(ForwardChunk, x.shape[0] - start);
                    var (xc, yc) = (x.narrow(0, start, n), y.narrow(0, start, n));
                    var logits = model.forward(xc);
                    lossSum += nn.functional.cross_entropy(logits, yc, reduction: nn.Reduction.Sum).item<float>();
                    var argmax = logits.argmax(1);
                    correct += argmax.eq(yc).sum().item<long>();
                    predicted.AddRange(argmax.to_type(ScalarType.Int32).cpu().data<int>().ToArray());
                    labels.AddRange(yc.to_type(ScalarType.Int32).cpu().data<int>().ToArray());
                }
            }
        }
        if (wasTraining) model.train();
        return new Evaluation(lossSum / Math.Max(1, data.Count), (double)correct / Math.Max(1, data.Count), predicted.ToArray(), labels.ToArray());
    }

    public void Dispose() { } // the teacher belongs to whoever loaded it
}
