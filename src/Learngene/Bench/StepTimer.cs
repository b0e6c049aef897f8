using System.Diagnostics;
using Learngene.Training;

namespace Learngene.Bench;

/// <summary>Times the trainer's steps after a warm-up, including its data loading and augmentation.</summary>
sealed class StepTimer(int warmup) : ITrainingObserver
{
    Stopwatch? clock;
    public int Steps { get; private set; }
    public double Seconds { get; private set; }

    public void StepDone(int step, int steps, double loss, double imagesPerSecond)
    {
        if (step == warmup) clock = Stopwatch.StartNew();
        else if (step > warmup) { Steps++; Seconds = clock!.Elapsed.TotalSeconds; }
    }

    public double ImagesPerSecond(int batch) => Steps * batch / Seconds;
}
