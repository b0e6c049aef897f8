using Learngene.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Learngene.Models;

/// <summary>DeiT-style ViT: patch embedding, learned positions, optional class token, pre-norm blocks,
/// final norm, linear head. Parameter names follow timm (patch_embed.proj.weight, blocks.0.attn.qkv.weight…).
/// Learngene auxiliary models derive from it and replace the stack of blocks (<see cref="RunBlocks"/>).</summary>
public class VisionTransformer : Classifier
{
    private readonly PatchEmbed patch_embed;
    private readonly Parameter? cls_token;
    private readonly Parameter pos_embed;
    private readonly ModuleList<Block> blocks;
    private readonly LayerNorm? norm;
    private readonly LayerNorm? fc_norm;
    private readonly Linear head;

    public VisionTransformer(VitConfig config) : this(config, buildBlocks: true) { }

    /// <param name="buildBlocks">False for auxiliary models that compute their blocks' weights themselves.</param>
    protected VisionTransformer(VitConfig config, bool buildBlocks) : base(nameof(VisionTransformer), config.Validate())
    {
        patch_embed = new PatchEmbed(config.ImageSize, config.PatchSize, config.Channels, config.Width);
        int tokens = patch_embed.NumPatches;
        if (config.Pooling == "cls")
        {
            cls_token = nn.Parameter(torch.zeros(1, 1, config.Width));
            tokens += 1;
        }
        pos_embed = nn.Parameter(torch.zeros(1, tokens, config.Width));
        blocks = new ModuleList<Block>(Enumerable.Range(0, buildBlocks ? config.Depth : 0).Select(_ => new Block(config.Width, config.Heads, config.MlpRatio)).ToArray());
        // timm's names: the final norm is `norm` on the tokens, or `fc_norm` on the pooled vector.
        if (config.FcNorm) fc_norm = nn.LayerNorm(config.Width, eps: 1e-6);
        else norm = nn.LayerNorm(config.Width, eps: 1e-6);
        head = nn.Linear(config.Width, config.Classes);
        RegisterComponents();
        WeightInit.Timm(this);
    }

    /// <summary>The architecture as its family's record (a new-hidden Config would confuse TorchSharp's reflection over members).</summary>
    public VitConfig Architecture => (VitConfig)Config;

    public IList<Block> Blocks => blocks;

    /// <summary>Tokens after the embedding (and class token), before the first block.</summary>
    public Tensor Embed(Tensor images)
    {
        var x = patch_embed.forward(images);
        if (cls_token is not null) x = torch.cat([cls_token.expand(x.shape[0], -1, -1), x], 1);
        return x + pos_embed;
    }

    /// <summary>Final norm, pooling and head, applied to the output of the last block.</summary>
    public Tensor Head(Tensor tokens) => head.forward(Readout(tokens));

    /// <summary>Final norm and pooling: the vector the head reads.</summary>
    Tensor Readout(Tensor tokens)
    {
        var x = norm?.forward(tokens) ?? tokens;
        x = Architecture.Pooling == "cls" ? x[.., 0] : x.mean([1]);
        return fc_norm?.forward(x) ?? x;
    }

    public override Tensor Features(Tensor images) => Readout(RunBlocks(Embed(images)));

    public override Tensor forward(Tensor images) => Head(RunBlocks(Embed(images)));

    /// <summary>Logits with every block's output and attention branch (for feature distillation).</summary>
    public (Tensor Logits, List<Tensor> Blocks, List<Tensor> Attention) ForwardFeatures(Tensor images)
    {
        if (blocks.Count != Architecture.Depth) throw new InvalidOperationException("ForwardFeatures needs a ViT with its own blocks, not an auxiliary model");
        var x = Embed(images);
        var outputs = new List<Tensor>();
        var attention = new List<Tensor>();
        foreach (var block in blocks)
        {
            var (y, a) = block.Forward(x);
            outputs.Add(y);
            attention.Add(a);
            x = y;
        }
        return (Head(x), outputs, attention);
    }

    protected virtual Tensor RunBlocks(Tensor x)
    {
        foreach (var block in blocks) x = block.forward(x);
        return x;
    }

    public override long MacsPerImage()
    {
        var c = Architecture;
        long d = c.Width, n = patch_embed.NumPatches + (c.Pooling == "cls" ? 1 : 0);
        long embed = (long)patch_embed.NumPatches * c.Channels * c.PatchSize * c.PatchSize * d;
        return embed + c.Depth * Block.Macs(n, d, c.MlpRatio) + d * c.Classes;
    }
}
