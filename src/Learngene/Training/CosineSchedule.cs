namespace Learngene.Training;

/// <summary>Linear warmup from 0 to the base rate, then cosine decay to the minimum, per optimizer step.</summary>
public sealed record CosineSchedule(double BaseLr, double MinLr, long WarmupSteps, long TotalSteps)
{
    public double At(long step)
    {
        if (step < WarmupSteps) return BaseLr * (step + 1) / WarmupSteps;
        double progress = TotalSteps <= WarmupSteps ? 1 : (double)(step - WarmupSteps) / (TotalSteps - WarmupSteps);
        return MinLr + 0.5 * (BaseLr - MinLr) * (1 + Math.Cos(Math.PI * Math.Min(1, progress)));
    }
}
