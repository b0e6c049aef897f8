using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Training;

/// <summary>Names the tensors holding NaN or infinity, so that a diverged run says where: which gradients
/// before an update, which parameters and buffers (BatchNorm's running statistics) after an epoch.</summary>
public static class NonFinite
{
    /// <summary>Parameters whose gradient is not finite: the model's, then the objective's own.</summary>
    public static List<string> Gradients(nn.Module model, IObjective objective)
    {
        using var scope = torch.NewDisposeScope();
        var named = model.named_parameters().Concat(objective.Own?.named_parameters().Select(p => ($"{Checkpoint.ObjectivePrefix}{p.name}", p.parameter)) ?? []);
        return named.Where(p => p.Item2.grad is { } g && !g.isfinite().all().item<bool>()).Select(p => p.Item1).ToList();
    }

    /// <summary>Floating-point parameters and buffers of <paramref name="model"/> holding a non-finite value.</summary>
    public static List<string> State(nn.Module model)
    {
        using var scope = torch.NewDisposeScope();
        return model.state_dict().Where(kv => kv.Value.is_floating_point() && !kv.Value.isfinite().all().item<bool>()).Select(kv => kv.Key).ToList();
    }

    /// <summary>The first few names and how many there are.</summary>
    public static string Describe(IReadOnlyList<string> names, int shown = 6) =>
        names.Count == 0 ? "none" : string.Join(", ", names.Take(shown)) + (names.Count > shown ? $" and {names.Count - shown} more" : "") + $" ({names.Count} in all)";
}
