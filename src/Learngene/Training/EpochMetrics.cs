namespace Learngene.Training;

/// <summary>One line of metrics.jsonl.</summary>
public sealed record EpochMetrics(
    int Epoch, double TrainLoss, double TrainAccuracy, double TestLoss, double TestAccuracy,
    double LearningRate, double ImagesPerSecond, double Seconds, long ImagesSeen, double ResidentMb);

/// <summary>What the trainer tells its caller while it runs (the CLI draws a progress bar from it).</summary>
public interface ITrainingObserver
{
    void EpochStarted(int epoch, int epochs, int steps) { }
    void StepDone(int step, int steps, double loss, double imagesPerSecond) { }
    void EpochDone(EpochMetrics metrics) { }
}
