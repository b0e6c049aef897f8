using System.Text.Json;
using Learngene.Data;
using Learngene.Models;
using Learngene.Models.Stitching;
using Learngene.Training;
using Learngene.Training.Objectives;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Learngene.Methods.Pool;

/// <summary>Fine-tuning a stitch pool (Learngene Pool and SN-Net alike, docs/methods/pool.md): each step trains one
/// configuration drawn uniformly from all of them (every model alone and every stitch point) with
/// <c>w·CE + (1 − w)·softKD</c> from the teacher (w = 0.5, T = 1). The draw depends only on the seed and
/// the step number, which this objective keeps as its own state, so a resumed run draws what an
/// uninterrupted one would. Test metrics: accuracy and loss averaged over every configuration, and each
/// configuration's accuracy (<c>accuracy/ID</c>). The loss is the paper's; the authors' code differs: Learngene
/// Pool's fine-tunes with plain cross-entropy at a constant learning rate, SN-Net's with 0.5·CE + 0.5·hard KD
/// from a CNN teacher (docs/methods/pool.md, deviations).</summary>
public sealed class StitchFineTuning : IObjective
{
    /// <summary>The loss mix (1: plain cross-entropy, as Learngene Pool's code trains), the draw's seed, and
    /// whether every epoch evaluates all configurations (else only the last, the one the results read).</summary>
    public sealed record Settings(double CrossEntropyWeight = 0.5, double Temperature = 1.0, int Seed = 0, bool EvaluateEveryEpoch = false);

    public static readonly ObjectiveFactory Factory = new("stitch-finetune",
        "one configuration of a stitch pool per step, 0.5·CE + 0.5·soft KD from the teacher", Create);

    readonly Settings settings;
    readonly nn.Module<Tensor, Tensor> teacher;
    readonly Normalization? teacherNorm;
    readonly Normalization dataNorm;
    readonly StepCounter counter = new();
    /// <summary>The optimizer steps of the whole run: the evaluation after them is the last epoch's.</summary>
    readonly long finalStep;

    /// <summary>The number of steps taken, as a buffer so that checkpoints keep it.</summary>
    sealed class StepCounter : nn.Module
    {
        public StepCounter() : base("counter") => register_buffer("steps", torch.zeros(1, dtype: int64));

        /// <summary>Looked up each time: loading a checkpoint may replace the registered tensor.</summary>
        public Tensor Steps => named_buffers().Single(b => b.name == "steps").buffer;
    }

    public StitchFineTuning(Settings settings, nn.Module<Tensor, Tensor> teacher, Normalization dataNorm, Normalization? teacherNorm = null, long finalStep = 0)
    {
        this.settings = settings;
        this.finalStep = finalStep;
        this.teacher = teacher;
        this.dataNorm = dataNorm;
        this.teacherNorm = teacherNorm;
        teacher.eval();
    }

    static IObjective Create(ObjectiveContext c)
    {
        if (c.Model is not StitchPool) throw new LearngeneException("stitch fine-tuning trains a stitch pool");
        var teacher = c.Teacher ?? throw new LearngeneException("stitch fine-tuning distils from a teacher", setting: "teacher");
        Settings settings;
        try { settings = c.Settings is null ? new Settings(Seed: c.Options.Seed) : JsonSerializer.Deserialize<Settings>(c.Settings, ModelConfig.Json)!; }
        catch (JsonException) { throw new LearngeneException($"stitch fine-tuning settings '{c.Settings}' do not parse"); }
        if (settings.CrossEntropyWeight is < 0 or > 1) throw new LearngeneException($"stitch fine-tuning's cross-entropy weight must be in [0, 1] (got {settings.CrossEntropyWeight})");
        long steps = (long)c.Options.Epochs * ((c.Data.Train.Count + c.Options.BatchSize - 1) / c.Options.BatchSize);
        return new StitchFineTuning(settings, teacher.Model, c.DataNormalization, teacher.Normalization, steps);
    }

    public nn.Module? Own => counter;

    public void MoveTo(Device device) => teacher.to(device); // the counter stays on the CPU

    /// <summary>The configuration drawn at a step: SplitMix64 of (seed, step), uniform over the count.</summary>
    public static int Draw(int seed, long step, int count)
    {
        ulong z = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL + (ulong)step + 0x632BE59BD9B4E019UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        z ^= z >> 31;
        return (int)(z % (ulong)count);
    }

    public ObjectiveStep Step(nn.Module model, Tensor images, Tensor labels)
    {
        var pool = (StitchPool)model;
        long step = counter.Steps.item<long>();
        var config = pool.Configurations[Draw(settings.Seed, step, pool.Configurations.Count)];
        counter.Steps.add_(1);
        var logits = pool.Forward(images, config);
        var loss = Losses.CrossEntropy(logits, labels);
        if (settings.CrossEntropyWeight < 1)
        {
            Tensor teacherLogits;
            using (torch.no_grad())
                teacherLogits = teacher.forward(dataNorm.Renormalize(images, teacherNorm));
            loss = settings.CrossEntropyWeight * loss + (1 - settings.CrossEntropyWeight) * Losses.SoftDistillation(logits, teacherLogits, settings.Temperature);
        }
        long n = images.shape[0];
        return new ObjectiveStep(loss, n, new Dictionary<string, double> { ["loss"] = loss.item<float>() * n, ["accuracy"] = logits.argmax(1).eq(labels).sum().item<long>() });
    }

    public void StepWithoutRows() => counter.Steps.add_(1);

    /// <summary>Every configuration at the last epoch (and at every epoch when the settings ask): evaluating
    /// dozens of configurations each epoch would cost more than the fine-tuning itself at small budgets.</summary>
    public IReadOnlyDictionary<string, double> Evaluate(nn.Module model, ImageDataset data, Normalization norm, int batchSize, Device device)
    {
        Predictions = null;
        if (!settings.EvaluateEveryEpoch && counter.Steps.item<long>() < finalStep) return new Dictionary<string, double>();
        var (metrics, predictions) = EvaluateAll((StitchPool)model, data, norm, batchSize, device);
        Predictions = predictions;
        return metrics;
    }

    public TestPredictions? Predictions { get; private set; }

    /// <summary>Every configuration of a pool on held-out data: <c>accuracy/ID</c> each, and their means; and
    /// each configuration's predicted class per image.</summary>
    public static (Dictionary<string, double> Metrics, TestPredictions Predictions) EvaluateAll(StitchPool pool, ImageDataset data, Normalization norm, int batchSize, Device device)
    {
        var metrics = new Dictionary<string, double>();
        var predicted = new Dictionary<string, int[]>();
        int[] labels = [];
        double lossSum = 0, accuracySum = 0;
        foreach (var c in pool.Configurations)
        {
            using var configured = new Configured(pool, c); // freed here, never by the finalizer thread
            var e = Classification.Predict(configured, data, norm, batchSize, device);
            metrics[$"accuracy/{c.Id}"] = e.Accuracy;
            predicted[$"accuracy/{c.Id}"] = e.Predicted;
            labels = e.Labels;
            lossSum += e.Loss;
            accuracySum += e.Accuracy;
        }
        metrics["loss"] = lossSum / pool.Configurations.Count;
        metrics["accuracy"] = accuracySum / pool.Configurations.Count;
        return (metrics, new TestPredictions(labels, predicted));
    }

    /// <summary>One configuration of a pool seen as a classifier (for evaluation).</summary>
    sealed class Configured(StitchPool pool, StitchConfig config) : nn.Module<Tensor, Tensor>("configured")
    {
        public override Tensor forward(Tensor images) => pool.Forward(images, config);
        public override void train(bool on = true) { pool.train(on); base.train(on); }
    }

    public void Dispose() => counter.Dispose(); // the teacher belongs to whoever loaded it
}
