using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Training;

public static class Losses
{
    /// <summary>Cross-entropy with label smoothing ε: targets are (1-ε) on the label plus ε/K everywhere.</summary>
    public static Tensor CrossEntropy(Tensor logits, Tensor labels, double smoothing = 0.0)
    {
        var logp = nn.functional.log_softmax(logits, 1);
        var nll = -logp.gather(1, labels.unsqueeze(1)).squeeze(1);
        if (smoothing <= 0) return nll.mean();
        return ((1 - smoothing) * nll - smoothing * logp.mean([1])).mean();
    }

    /// <summary>Soft distillation as in DeiT and the learngene papers' code:
    /// T² · KL(softmax(teacher/T) ‖ softmax(student/T)), summed and divided by batch × classes.</summary>
    public static Tensor SoftDistillation(Tensor studentLogits, Tensor teacherLogits, double temperature)
    {
        var s = nn.functional.log_softmax(studentLogits / temperature, 1);
        var t = nn.functional.log_softmax(teacherLogits / temperature, 1);
        var kl = (t.exp() * (t - s)).sum();
        return kl * (temperature * temperature) / studentLogits.numel();
    }

    /// <summary>Hard distillation (DeiT): cross-entropy against the teacher's arg-max.</summary>
    public static Tensor HardDistillation(Tensor studentLogits, Tensor teacherLogits) =>
        CrossEntropy(studentLogits, teacherLogits.argmax(1));
}
