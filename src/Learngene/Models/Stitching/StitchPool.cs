using Learngene.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Learngene.Models.Stitching;

/// <summary>A stitchable family as one trainable module: the models (<c>models.i.*</c>, ordinary ViTs) and
/// the stitch layers (<c>stitches.s.*</c>). Any configuration runs through <see cref="Forward"/> and is
/// exported as an ordinary model file by <see cref="Export"/>; <see cref="FitStitches"/> is the least-squares
/// initialization. Its forward (for the trainer's bookkeeping) is the widest model alone.</summary>
public sealed class StitchPool : Classifier
{
    private readonly ModuleList<VisionTransformer> models;
    private readonly ModuleList<Linear> stitches;

    public StitchPool(StitchPoolConfig config) : base(nameof(StitchPool), config.Validate())
    {
        models = new ModuleList<VisionTransformer>(config.Models.Select(m => new VisionTransformer(m)).ToArray());
        var layers = new List<Linear>();
        foreach (var pair in config.Pairs)
            for (int w = 0; w < config.Depth - 1; w++) layers.Add(nn.Linear(config.Models[pair[0]].Width, config.Models[pair[1]].Width));
        stitches = new ModuleList<Linear>(layers.ToArray());
        RegisterComponents();
        WeightInit.Timm(stitches);
        Configurations = config.Configurations();
    }

    public StitchPoolConfig Pool => (StitchPoolConfig)Config;
    public IReadOnlyList<StitchConfig> Configurations { get; }
    public IList<VisionTransformer> Models => models;
    /// <summary>The stitch layers: pair p's window w is layer p·(d−1) + w (<see cref="StitchLayout.Enumerate"/>).</summary>
    public IList<Linear> Stitches => stitches;

    public override Tensor forward(Tensor images) => models[^1].forward(images);

    public override long MacsPerImage() => models[^1].MacsPerImage();

    public Tensor Forward(Tensor images, StitchConfig c)
    {
        if (c.IsInstance) return models[c.Front].forward(images);
        var (front, end) = (models[c.Front], models[c.End]);
        var x = front.Embed(images);
        for (int i = 0; i <= c.FrontLast; i++) x = front.Blocks[i].forward(x);
        x = stitches[c.StitchLayer].forward(x);
        for (int i = c.EndFirst; i < Pool.Depth; i++) x = end.Blocks[i].forward(x);
        return end.Head(x);
    }

    /// <summary>Least-squares stitch initialization (docs/methods/pool.md): for every stitch point, X = the front's
    /// tokens after its block j and Y = the end's tokens entering its block k, on the given images; each
    /// layer takes the mean of the solutions of the points it serves.</summary>
    public void FitStitches(Tensor images)
    {
        using var _ = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var hidden = models.Select(m => Hidden(m, images)).ToArray(); // [model][i]: tokens entering block i (i = depth: after the last)
        foreach (var group in Configurations.Where(c => !c.IsInstance).GroupBy(c => c.StitchLayer))
        {
            var fits = group.Select(c => LeastSquares.Fit(hidden[c.Front][c.FrontLast + 1], hidden[c.End][c.EndFirst])).ToArray();
            stitches[group.Key].weight!.copy_(torch.stack(fits.Select(f => f.Weight)).mean([0]));
            stitches[group.Key].bias!.copy_(torch.stack(fits.Select(f => f.Bias)).mean([0]));
        }
    }

    /// <summary>How well each stitch point's current layer maps the front's tokens onto the end's, on the
    /// given images: the relative residual ‖W·x + b − y‖² / ‖y − ȳ‖² (0: exact; 1: no better than the end's
    /// mean token; above 1: worse). What explains a stitch initialization's accuracy before fine-tuning.</summary>
    public Dictionary<string, double> Residuals(Tensor images)
    {
        using var _ = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var hidden = models.Select(m => Hidden(m, images)).ToArray();
        var residuals = new Dictionary<string, double>();
        foreach (var c in Configurations.Where(c => !c.IsInstance))
        {
            var x = hidden[c.Front][c.FrontLast + 1];
            var y = hidden[c.End][c.EndFirst].reshape(-1, hidden[c.End][c.EndFirst].shape[^1]).to(float64);
            var fitted = stitches[c.StitchLayer].forward(x).reshape(y.shape[0], -1).to(float64);
            double error = (fitted - y).square().sum().item<double>();
            double spread = (y - y.mean([0], keepdim: true)).square().sum().item<double>();
            residuals[c.Id] = error / spread;
        }
        return residuals;
    }

    static List<Tensor> Hidden(VisionTransformer m, Tensor images)
    {
        var states = new List<Tensor> { m.Embed(images) };
        foreach (var block in m.Blocks) states.Add(block.forward(states[^1]));
        return states;
    }

    /// <summary>One configuration as an ordinary model (a ViT, or a stitched ViT) with the pool's weights.</summary>
    public Classifier Export(StitchConfig c)
    {
        var model = Classifier.Create(Pool.Architecture(c));
        var target = model.state_dict();
        using var _ = torch.no_grad();
        var front = models[c.Front].state_dict();
        if (c.IsInstance)
        {
            foreach (var (name, t) in target) t.copy_(front[name]);
            return model;
        }
        var end = models[c.End].state_dict();
        foreach (var n in new[] { "patch_embed.proj.weight", "patch_embed.proj.bias", "cls_token", "pos_embed" })
            if (target.ContainsKey(n)) target[n].copy_(front[n]);
        foreach (var n in Layers.Block.TensorNames)
        {
            for (int i = 0; i <= c.FrontLast; i++) target[$"blocks.{i}.{n}"].copy_(front[$"blocks.{i}.{n}"]);
            for (int i = c.EndFirst; i < Pool.Depth; i++) target[$"blocks.{c.FrontLast + 1 + i - c.EndFirst}.{n}"].copy_(end[$"blocks.{i}.{n}"]);
        }
        foreach (var n in new[] { "norm.weight", "norm.bias", "fc_norm.weight", "fc_norm.bias", "head.weight", "head.bias" })
            if (target.ContainsKey(n)) target[n].copy_(end[n]);
        target["stitch.weight"].copy_(stitches[c.StitchLayer].weight!);
        target["stitch.bias"].copy_(stitches[c.StitchLayer].bias!);
        return model;
    }

    /// <summary>Parameters and MACs per image of one configuration.</summary>
    public (long Parameters, long Macs) Cost(StitchConfig c)
    {
        using var m = Classifier.Create(Pool.Architecture(c));
        return (m.ParameterCount(), m.MacsPerImage());
    }
}
