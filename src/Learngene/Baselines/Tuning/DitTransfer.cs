using Learngene.Models;
using Learngene.Models.Layers;
using Learngene.Models.Linears;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Baselines.Tuning;

/// <summary>A pre-trained DiT carried over to new classes, the same way for every method of a transfer
/// experiment: every tensor of the same name and shape is copied, the class table gets fresh rows for the
/// new classes (DiT's N(0, 0.02)) and keeps the pre-trained null-class row, and each block linear (qkv, proj,
/// fc1, fc2) is handed to the method (<paramref name="linear"/>: copy, factor, adapt, or leave fresh).</summary>
public static class DitTransfer
{
    public static DiffusionTransformer Build(DiffusionTransformer source, DitConfig target, Action<int, BlockLinear, BlockLinear> linear, string[]? trainOnly = null)
    {
        var c = source.Architecture;
        if (c.Width != target.Width || c.Depth != target.Depth || c.PatchSize != target.PatchSize || c.ImageSize != target.ImageSize || c.Channels != target.Channels)
            throw new LearngeneException($"cannot carry {c.Describe()} over to {target.Describe()}: only classes and layer forms may change");
        var model = new DiffusionTransformer(target);
        try
        {
            using var _ = torch.no_grad();
            var from = source.state_dict();
            var own = BlockLinearNames(model);
            foreach (var (name, t) in model.state_dict())
            {
                if (own.Contains(name) || name.StartsWith(TableName)) continue;
                if (from.TryGetValue(name, out var src) && src.shape.SequenceEqual(t.shape)) t.copy_(src);
            }
            var table = model.LabelEmbedder.Table.weight!;
            var oldTable = source.LabelEmbedder.Table.weight!;
            if (target.ClassDropout > 0 && c.ClassDropout > 0) table[target.Classes].copy_(oldTable[c.Classes]); // the null class
            for (int b = 0; b < target.Depth; b++)
                foreach (var (s, d) in source.Blocks[b].Linears.Zip(model.Blocks[b].Linears)) linear(b, s, d);
            model.TrainOnly = trainOnly;
            return model;
        }
        catch { model.Dispose(); throw; }
    }

    public const string TableName = "y_embedder.";

    /// <summary>The names of every block linear's tensors.</summary>
    public static HashSet<string> BlockLinearNames(DiffusionTransformer model)
    {
        var linears = model.Blocks.SelectMany(b => b.Linears).ToHashSet();
        return model.named_modules().Where(m => m.module is BlockLinear l && linears.Contains(l))
            .SelectMany(m => m.module.named_parameters().Select(p => $"{m.name}.{p.name}")).ToHashSet();
    }

    /// <summary>The pre-trained matrix, copied into the new form (plain, or frozen under an adapter).</summary>
    public static void Carry(int block, BlockLinear source, BlockLinear target)
    {
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        target.LoadDense(source.Weight(), source.Bias);
    }
}
