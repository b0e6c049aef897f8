using System.Diagnostics;
using System.Text.Json;
using Learngene.Data;
using Learngene.IO;
using Learngene.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Training;

/// <summary>Trains a classifier with AdamW, warmup + cosine, label smoothing, optional distillation from
/// a teacher and gradient clipping; evaluates every epoch; writes metrics (JSON lines, TensorBoard) and an
/// atomic checkpoint into the run folder. Knows nothing of how the model was built or initialized.</summary>
public sealed class Trainer(TrainOptions options)
{
    public TrainOptions Options { get; } = options.Validate();

    /// <summary>Where the trainer writes; null keeps everything in memory (benchmarks, tests).</summary>
    public string? RunDir { get; init; }
    public Classifier? Teacher { get; init; }
    public Normalization? TeacherNormalization { get; init; }
    public ITrainingObserver? Observer { get; init; }
    public Device Device { get; init; } = torch.CPU;
    /// <summary>Skip the per-epoch test evaluation (the throughput benchmark times training alone).</summary>
    public bool EvaluateEachEpoch { get; init; } = true;

    public const string CheckpointName = "checkpoint.safetensors";
    public const string MetricsName = "metrics.jsonl";

    /// <summary>Trains <paramref name="model"/> in place. With <paramref name="resumeFrom"/> (a checkpoint
    /// of the same architecture and recipe) it continues after the epochs that checkpoint records.</summary>
    public List<EpochMetrics> Fit(Classifier model, DataSplits data, Normalization norm, string? resumeFrom = null)
    {
        if (Options.Distill != "none" && Teacher is null) throw new LearngeneException($"distillation '{Options.Distill}' needs a teacher (--teacher FILE)");
        if (data.Train.Classes != model.Config.Classes)
            throw new LearngeneException($"the model has {model.Config.Classes} classes but {data.Name} has {data.Train.Classes}");
        model.to(Device);
        Teacher?.to(Device);
        Teacher?.eval();
        using var optimizer = new AdamW(model.named_parameters(), Options.WeightDecay);
        var history = new List<EpochMetrics>();
        int startEpoch = 1;
        if (resumeFrom is not null)
        {
            var state = Checkpoint.ReadState(resumeFrom);
            if (!state.Config.SameArchitecture(model.Config))
                throw new LearngeneException($"{resumeFrom} is a checkpoint of another architecture ({state.Config.Describe()}), not of {model.Config.Describe()}");
            Checkpoint.Restore(resumeFrom, model, optimizer, state.OptimizerStep);
            history.AddRange(state.History);
            startEpoch = state.EpochsDone + 1;
        }

        var loaderSteps = (data.Train.Count + Options.BatchSize - 1) / Options.BatchSize;
        var schedule = new CosineSchedule(Options.LearningRate, Options.MinLearningRate,
            (long)Math.Round(Options.WarmupEpochs * loaderSteps), (long)Options.Epochs * loaderSteps);
        var metricsSink = RunDir is null ? null : new MetricsSink(RunDir, history);
        long imagesSeen = history.LastOrDefault()?.ImagesSeen ?? 0;

        for (int epoch = startEpoch; epoch <= Options.Epochs; epoch++)
        {
            model.train();
            var loader = new BatchLoader(data.Train, norm, Options.BatchSize, shuffle: true, augment: Options.Augment, Options.Seed, epoch, Device);
            Observer?.EpochStarted(epoch, Options.Epochs, loader.Steps);
            var clock = Stopwatch.StartNew();
            double lossSum = 0, lr = 0;
            long correct = 0, seen = 0;
            int step = 0;
            using (var it = loader.Batches().GetEnumerator())
            {
                while (true)
                {
                    using var scope = torch.NewDisposeScope();
                    if (!it.MoveNext()) break;
                    var (x, y) = it.Current;
                    lr = schedule.At(optimizer.Step);
                    var logits = model.forward(x);
                    var loss = Loss(logits, x, y, norm);
                    optimizer.ZeroGrad();
                    loss.backward();
                    if (Options.ClipGrad > 0) nn.utils.clip_grad_norm_(optimizer.Parameters, Options.ClipGrad);
                    optimizer.Update(lr);
                    long n = x.shape[0];
                    lossSum += loss.item<float>() * n;
                    correct += logits.argmax(1).eq(y).sum().item<long>();
                    seen += n;
                    step++;
                    Observer?.StepDone(step, loader.Steps, lossSum / seen, seen / clock.Elapsed.TotalSeconds);
                }
            }
            double seconds = clock.Elapsed.TotalSeconds;
            imagesSeen += seen;
            var (testLoss, testAcc) = EvaluateEachEpoch ? Evaluator.Evaluate(model, data.Test, norm, Options.EvalBatchSize, Device) : (double.NaN, double.NaN);
            var m = new EpochMetrics(epoch, lossSum / seen, (double)correct / seen, testLoss, testAcc, lr, seen / seconds, seconds, imagesSeen,
                Process.GetCurrentProcess().WorkingSet64 / 1048576.0);
            history.Add(m);
            if (RunDir is not null)
            {
                Checkpoint.Save(Path.Combine(RunDir, CheckpointName), new Checkpoint(model.Config, Options, epoch, optimizer.Step, history), model, optimizer);
                metricsSink!.Write(m);
            }
            Observer?.EpochDone(m);
            Native.CollectGarbage();
        }
        return history;
    }

    Tensor Loss(Tensor logits, Tensor x, Tensor y, Normalization norm)
    {
        var ce = Losses.CrossEntropy(logits, y, Options.LabelSmoothing);
        if (Options.Distill == "none" || Teacher is null) return ce;
        Tensor teacherLogits;
        using (torch.no_grad())
        {
            // The teacher may have been trained with other statistics: undo ours, apply its own.
            var tx = TeacherNormalization is null || TeacherNormalization == norm ? x : TeacherNormalization.Apply(norm.Invert(x));
            teacherLogits = Teacher.forward(tx);
        }
        var kd = Options.Distill == "soft"
            ? Losses.SoftDistillation(logits, teacherLogits, Options.Temperature)
            : Losses.HardDistillation(logits, teacherLogits);
        return (1 - Options.DistillAlpha) * ce + Options.DistillAlpha * kd;
    }
}

/// <summary>metrics.jsonl (rewritten from the history on resume, so it never holds a lost epoch twice)
/// and TensorBoard event files under tb/.</summary>
sealed class MetricsSink
{
    readonly string path;
    readonly TorchSharp.Modules.SummaryWriter? board;

    public MetricsSink(string runDir, IEnumerable<EpochMetrics> history)
    {
        Directory.CreateDirectory(runDir);
        path = Path.Combine(runDir, Trainer.MetricsName);
        AtomicFile.WriteAllText(path, string.Concat(history.Select(h => Line(h) + "\n")));
        try { board = torch.utils.tensorboard.SummaryWriter(Path.Combine(runDir, "tb")); }
        catch (Exception) { board = null; } // TensorBoard output is a convenience; never fail a run for it
    }

    static string Line(EpochMetrics m) => JsonSerializer.Serialize(m, ModelConfig.Json);

    public void Write(EpochMetrics m)
    {
        File.AppendAllText(path, Line(m) + "\n");
        if (board is null) return;
        board.add_scalar("loss/train", (float)m.TrainLoss, m.Epoch);
        board.add_scalar("accuracy/train", (float)m.TrainAccuracy, m.Epoch);
        if (!double.IsNaN(m.TestAccuracy))
        {
            board.add_scalar("loss/test", (float)m.TestLoss, m.Epoch);
            board.add_scalar("accuracy/test", (float)m.TestAccuracy, m.Epoch);
        }
        board.add_scalar("lr", (float)m.LearningRate, m.Epoch);
        board.add_scalar("images_per_second", (float)m.ImagesPerSecond, m.Epoch);
    }
}
