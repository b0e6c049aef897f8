using Learngene.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Learngene.Models;

/// <summary>A stitched ViT at inference: an ordinary network, so an exported pool configuration loads,
/// evaluates, fine-tunes and inspects like any model file. Tensor names follow the ViT's:
/// <c>patch_embed.*</c>, <c>cls_token</c>, <c>pos_embed</c> (the front's), <c>blocks.i</c> (the front's
/// blocks, then the end's, renumbered in order), <c>stitch.*</c> (Linear front width → end width),
/// <c>norm.*</c> (or timm's <c>fc_norm.*</c>) and <c>head.*</c> (the end's).</summary>
public sealed class StitchedVisionTransformer : Classifier
{
    private readonly PatchEmbed patch_embed;
    private readonly Parameter? cls_token;
    private readonly Parameter pos_embed;
    private readonly ModuleList<Block> blocks;
    private readonly Linear stitch;
    private readonly LayerNorm? norm;
    private readonly LayerNorm? fc_norm;
    private readonly Linear head;

    public StitchedVisionTransformer(StitchedVitConfig config) : base(nameof(StitchedVisionTransformer), config.Validate())
    {
        var (f, e) = (config.Front, config.End);
        patch_embed = new PatchEmbed(config.ImageSize, f.PatchSize, config.Channels, f.Width);
        int tokens = patch_embed.NumPatches;
        if (f.Pooling == "cls") { cls_token = nn.Parameter(torch.zeros(1, 1, f.Width)); tokens++; }
        pos_embed = nn.Parameter(torch.zeros(1, tokens, f.Width));
        blocks = new ModuleList<Block>(
            Enumerable.Range(0, config.FrontBlocks).Select(_ => new Block(f.Width, f.Heads, f.MlpRatio))
                .Concat(Enumerable.Range(0, config.EndBlocks).Select(_ => new Block(e.Width, e.Heads, e.MlpRatio))).ToArray());
        stitch = nn.Linear(f.Width, e.Width);
        // The end's final norm where the end has it: on the tokens, or (timm's fc_norm) on the pooled vector.
        if (e.FcNorm) fc_norm = nn.LayerNorm(e.Width, eps: 1e-6);
        else norm = nn.LayerNorm(e.Width, eps: 1e-6);
        head = nn.Linear(e.Width, config.Classes);
        RegisterComponents();
        WeightInit.Timm(this);
    }

    public StitchedVitConfig Architecture => (StitchedVitConfig)Config;

    public override Tensor forward(Tensor images)
    {
        var c = Architecture;
        var x = patch_embed.forward(images);
        if (cls_token is not null) x = torch.cat([cls_token.expand(x.shape[0], -1, -1), x], 1);
        x = x + pos_embed;
        for (int i = 0; i < blocks.Count; i++)
        {
            if (i == c.FrontBlocks) x = stitch.forward(x);
            x = blocks[i].forward(x);
        }
        x = norm?.forward(x) ?? x;
        x = c.End.Pooling == "cls" ? x[.., 0] : x.mean([1]);
        return head.forward(fc_norm?.forward(x) ?? x);
    }

    public override long MacsPerImage()
    {
        var c = Architecture;
        long n = patch_embed.NumPatches + (c.End.Pooling == "cls" ? 1 : 0);
        long embed = (long)patch_embed.NumPatches * c.Channels * c.Front.PatchSize * c.Front.PatchSize * c.Front.Width;
        return embed + c.FrontBlocks * Block.Macs(n, c.Front.Width, c.Front.MlpRatio) + n * c.Front.Width * c.End.Width
             + c.EndBlocks * Block.Macs(n, c.End.Width, c.End.MlpRatio) + (long)c.End.Width * c.Classes;
    }
}
