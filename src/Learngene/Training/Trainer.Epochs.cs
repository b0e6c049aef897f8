using System.Diagnostics;

namespace Learngene.Training;

public sealed partial class Trainer
{
    /// <summary>The epoch's numbers: the training sums as means, rank 0's evaluation shared with every rank (the
    /// history is the same on every rank), throughput and memory; and rank 0's test predictions. A diverged run
    /// stops here, its last good checkpoint kept, rather than writing NaN metrics.</summary>
    (EpochMetrics Metrics, TestPredictions? Predictions) Measure(Fitting f, int epoch, EpochSteps steps)
    {
        f.ImagesSeen += steps.Seen;
        var test = EvaluateEachEpoch
            ? f.Parallel.Share(World.IsRoot ? f.Objective.Evaluate(f.Model, f.Data.Test, f.Norm, Options.EvalBatchSize, Device) : null)
            : new Dictionary<string, double>();
        var predictions = EvaluateEachEpoch && World.IsRoot ? f.Objective.Predictions : null;
        var m = new EpochMetrics
        {
            Epoch = epoch, Train = steps.Sums.ToDictionary(kv => kv.Key, kv => kv.Value / steps.Seen), Test = test.ToDictionary(),
            Outcomes = predictions?.Correct().ToDictionary(kv => kv.Key, kv => Statistics.TestOutcomes.Encode(kv.Value)),
            LearningRate = steps.LearningRate, ImagesPerSecond = steps.Seen / steps.Seconds, Seconds = steps.Seconds, ImagesSeen = f.ImagesSeen,
            ResidentMb = Process.GetCurrentProcess().WorkingSet64 / 1048576.0,
        };
        if (m.Train.Concat(m.Test).FirstOrDefault(kv => !double.IsFinite(kv.Value)) is { Key: not null } bad)
            throw new LearngeneException($"training diverged in epoch {epoch}: {(m.Train.ContainsKey(bad.Key) && !double.IsFinite(m.Train[bad.Key]) ? "train" : "test")} {bad.Key} is {bad.Value} " +
                $"(train: {string.Join(", ", m.Train.Select(kv => $"{kv.Key} {kv.Value:G4}"))}; test: {string.Join(", ", m.Test.Select(kv => $"{kv.Key} {kv.Value:G4}"))}; " +
                $"non-finite parameters and buffers: {NonFinite.Describe(NonFinite.State(f.Model))}); try a lower learning rate", setting: "lr");
        return (m, predictions);
    }

    /// <summary>The epoch on disk, in a run folder only: its predictions, the checkpoint (atomic), the metrics line
    /// and TensorBoard scalars, and the objective's figures.</summary>
    void Record(Fitting f, int epoch, EpochMetrics m, TestPredictions? predictions, List<EpochMetrics> history)
    {
        if (RunDir is null) return;
        if (predictions is not null) PredictionsFile.Add(RunDir, epoch, predictions);
        Checkpoint.Save(Path.Combine(RunDir, CheckpointName), new Checkpoint(f.Config, Options, epoch, f.Optimizer.Step, history), f.Model, f.Objective, f.Optimizer);
        f.Metrics!.Write(m);
        if (EvaluateEachEpoch && f.Objective.Figures(f.Model) is { } figures)
        {
            f.Metrics.WriteImages(figures, epoch);
            foreach (var image in figures.Values) image.Dispose();
        }
    }
}
