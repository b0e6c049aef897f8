using Learngene.Training;

namespace Learngene.Methods;

public static class Distillation
{
    /// <summary>The learngene authors' distillation (TLEG's and SWS's code): soft KD only (weight 1 on the
    /// KD term, 0 on cross-entropy), temperature 1.</summary>
    public static TrainOptions Authors(TrainOptions recipe) => recipe with { Distill = "soft", DistillAlpha = 1.0, Temperature = 1.0 };
}
