using Learngene.IO;
using Learngene.Methods;
using Learngene.Models.Stitching;
using Learngene.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Methods.Pool;

/// <summary>One instance's distillation maps: per matched position, M_p (weight [instance width, teacher
/// width]) and its bias, fitted with the instance so that h_instance ≈ M_p·h_teacher + b_p.</summary>
public sealed record DistillationMaps(IReadOnlyList<Tensor> Weights, IReadOnlyList<Tensor> Biases) : IDisposable
{
    public Tensor MeanWeight() => Weights.Count == 0 ? throw new LearngeneException("an instance has no distillation maps") : torch.stack(Weights).mean([0]);
    public Tensor MeanBias() => Biases.Count == 0 ? throw new LearngeneException("an instance has no distillation maps") : torch.stack(Biases).mean([0]);

    public void Dispose()
    {
        foreach (var t in Weights.Concat(Biases)) t.Dispose();
    }

    /// <summary>The maps a feature-distillation run kept in its checkpoint (<c>objective/blocks.p.weight</c>, <c>.bias</c>).</summary>
    public static DistillationMaps Read(string checkpointPath)
    {
        var (tensors, _) = SafeTensors.Load(checkpointPath);
        var positions = Enumerable.Range(0, tensors.Count).TakeWhile(p => tensors.ContainsKey($"{Checkpoint.ObjectivePrefix}blocks.{p}.weight")).ToList();
        var names = positions.SelectMany(p => new[] { $"{Checkpoint.ObjectivePrefix}blocks.{p}.weight", $"{Checkpoint.ObjectivePrefix}blocks.{p}.bias" }).ToHashSet();
        foreach (var (name, t) in tensors) if (!names.Contains(name)) t.Dispose();
        if (positions.Count == 0) throw new LearngeneException($"{checkpointPath} holds no distillation maps: was this instance trained with feature distillation?");
        var biases = positions.Select(p => tensors.GetValueOrDefault($"{Checkpoint.ObjectivePrefix}blocks.{p}.bias")).ToList();
        if (biases.Any(b => b is null))
        {
            foreach (var t in tensors.Where(kv => names.Contains(kv.Key)).Select(kv => kv.Value)) t.Dispose();
            throw new LearngeneException($"{checkpointPath}: a distillation map has no bias");
        }
        return new DistillationMaps(positions.Select(p => tensors[$"{Checkpoint.ObjectivePrefix}blocks.{p}.weight"]).ToList(), biases!);
    }
}

/// <summary>Learngene Pool's stitch initializations from the instances' distillation maps (docs/methods/pool.md).
/// For a stitch from front f to end e, the maps say h_f ≈ M_f·h_t + b_f and h_e ≈ M_e·h_t + b_e (t: the
/// teacher), each M̄, b̄ the mean over an instance's matched positions.
/// <list type="bullet">
/// <item><c>learned</c>, the authors' rule (superselll/learngenepool, <c>pool/</c>): W = M̄_fᵀ, zero bias, for
/// an end as wide as the teacher — which treats that end as living in the teacher's coordinates, though it
/// was trained from scratch and is tied to the teacher only through its own M_e (their code has this hole
/// too); for a narrower end we compose its map, W = M̄_e·M̄_fᵀ (our extension). Mᵀ stands in for an
/// inverse and the maps' biases are dropped, as in their code.</item>
/// <item><c>learned-pinv</c>, the same idea solved properly: h_t ≈ pinv(M̄_f)(h_f − b̄_f), so W = M̄_e·pinv(M̄_f)
/// and b = b̄_e − W·b̄_f, composing M_e for every end, the teacher-width one included (ours).</item>
/// </list></summary>
public static class LearnedStitchInit
{
    public const string Authors = "learned", Pinv = "learned-pinv";

    /// <summary>Sets every stitch layer of the pool by <paramref name="rule"/>. <paramref name="maps"/>[i] holds
    /// model i's maps.</summary>
    public static void Apply(StitchPool pool, IReadOnlyList<DistillationMaps> maps, int teacherWidth, string rule = Authors)
    {
        if (rule is not (Authors or Pinv)) throw new LearngeneException($"unknown learned stitch rule '{rule}' (expected {Authors} or {Pinv})", setting: "stitch-init");
        if (maps.Count != pool.Models.Count) throw new LearngeneException($"learned stitch initialization needs the maps of all {pool.Models.Count} models (got {maps.Count})");
        for (int i = 0; i < maps.Count; i++)
            if (maps[i].Weights.Any(m => m.dim() != 2 || m.shape[0] != pool.Pool.Models[i].Width || m.shape[1] != teacherWidth))
                throw new LearngeneException($"model {i}'s distillation maps are not teacher width {teacherWidth} → width {pool.Pool.Models[i].Width}: distilled from another teacher?", setting: "teacher");
        using var _ = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var config = pool.Pool;
        for (int p = 0; p < config.Pairs.Length; p++)
        {
            var (front, end) = (config.Pairs[p][0], config.Pairs[p][1]);
            var (weight, bias) = rule == Authors ? AuthorsRule(maps[front], maps[end], config.Models[end].Width == teacherWidth) : PinvRule(maps[front], maps[end]);
            for (int w = 0; w < config.Depth - 1; w++)
            {
                var layer = pool.Stitches[p * (config.Depth - 1) + w];
                layer.weight!.copy_(weight);
                layer.bias!.copy_(bias);
            }
        }
    }

    static (Tensor Weight, Tensor Bias) AuthorsRule(DistillationMaps front, DistillationMaps end, bool endIsTeacherWidth)
    {
        var back = front.MeanWeight().t(); // [teacher, front]
        var weight = endIsTeacherWidth ? back : end.MeanWeight().matmul(back);
        return (weight, torch.zeros(weight.shape[0]));
    }

    static (Tensor Weight, Tensor Bias) PinvRule(DistillationMaps front, DistillationMaps end)
    {
        var mf = front.MeanWeight().to(float64);
        var me = end.MeanWeight().to(float64);
        var weight = me.matmul(torch.linalg.pinv(mf)); // [end, front]
        var bias = end.MeanBias().to(float64) - weight.matmul(front.MeanBias().to(float64));
        return (weight.to(float32), bias.to(float32));
    }
}
