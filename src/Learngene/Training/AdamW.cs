using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Learngene.Training;

/// <summary>AdamW (decoupled weight decay), the same update as torch.optim.AdamW. Written here so that its
/// state is plain named tensors that go into the checkpoint file next to the weights (one atomic file per
/// checkpoint). Weight decay applies to matrices and conv kernels only, not to biases, norms, positional
/// embeddings or class tokens (DeiT's rule).</summary>
public sealed class AdamW : IDisposable
{
    sealed record Slot(string Name, Parameter Param, Tensor M, Tensor V, bool Decay);

    readonly List<Slot> slots;
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.999;
    public double Eps { get; init; } = 1e-8;
    public double WeightDecay { get; }
    public long Step { get; private set; }

    public AdamW(IEnumerable<TrainableParameter> parameters, double weightDecay)
    {
        WeightDecay = weightDecay;
        slots = parameters.Select(p => new Slot(p.Name, p.Param, torch.zeros_like(p.Param), torch.zeros_like(p.Param), p.Decay)).ToList();
        // Every trainable parameter starts with a zero gradient, so that one a step does not use (a pool's
        // other stitch layers) is updated with gradient 0 from the first step on, the same way in a run and
        // in its resumed continuation; left null, it would be skipped until first used in one but not the other.
        using var _ = torch.no_grad();
        foreach (var s in slots) s.Param.grad ??= torch.zeros_like(s.Param);
    }

    /// <summary>Every trainable parameter of a module, with DeiT's decay rule unless the module chooses.</summary>
    public AdamW(nn.Module module, double weightDecay) : this(ParameterGroups.Of(module), weightDecay) { }

    public IEnumerable<Parameter> Parameters => slots.Select(s => s.Param);

    public void ZeroGrad()
    {
        // Zero in place: assigning null to .grad in TorchSharp 0.107 led to NaN gradients on later
        // steps (seen with BatchNorm models), so gradients are kept and cleared instead.
        using var _ = torch.no_grad();
        foreach (var s in slots) s.Param.grad?.zero_();
    }

    public void Update(double lr)
    {
        Step++;
        double bc1 = 1 - Math.Pow(Beta1, Step), bc2 = 1 - Math.Pow(Beta2, Step);
        using var _ = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        foreach (var s in slots)
        {
            var g = s.Param.grad;
            if (g is null) continue;
            if (s.Decay && WeightDecay > 0) s.Param.mul_(1 - lr * WeightDecay);
            s.M.mul_(Beta1).add_(g, alpha: 1 - Beta1);
            s.V.mul_(Beta2).addcmul_(g, g, value: 1 - Beta2);
            var denom = (s.V.sqrt() / Math.Sqrt(bc2)).add_(Eps);
            s.Param.addcdiv_(s.M, denom, value: -lr / bc1);
        }
    }

    public void Dispose()
    {
        foreach (var s in slots) { s.M.Dispose(); s.V.Dispose(); }
    }

    /// <summary>Moment tensors by "m/NAME" and "v/NAME", for checkpoints.</summary>
    public Dictionary<string, Tensor> State()
    {
        var d = new Dictionary<string, Tensor>();
        foreach (var s in slots) { d["m/" + s.Name] = s.M; d["v/" + s.Name] = s.V; }
        return d;
    }

    public void LoadState(IReadOnlyDictionary<string, Tensor> state, long step)
    {
        using var _ = torch.no_grad();
        foreach (var s in slots)
        {
            if (!state.TryGetValue("m/" + s.Name, out var m) || !state.TryGetValue("v/" + s.Name, out var v) ||
                !m.shape.SequenceEqual(s.M.shape) || !v.shape.SequenceEqual(s.V.shape))
                throw new LearngeneException($"the checkpoint's optimizer state does not match parameter '{s.Name}'");
            s.M.copy_(m);
            s.V.copy_(v);
        }
        Step = step;
    }
}
