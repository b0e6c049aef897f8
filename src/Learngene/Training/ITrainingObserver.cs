namespace Learngene.Training;

/// <summary>What the trainer tells its caller while it runs (the CLI draws a progress bar from it).</summary>
public interface ITrainingObserver
{
    void EpochStarted(int epoch, int epochs, int steps) { }
    void StepDone(int step, int steps, double loss, double imagesPerSecond) { }
    void EpochDone(EpochMetrics metrics) { }
}
