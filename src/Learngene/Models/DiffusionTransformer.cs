using Learngene.Methods.Kind;
using Learngene.Models.Layers;
using Learngene.Models.Linears;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Learngene.Models;

/// <summary>DiT (Peebles and Xie): patchify, fixed 2-D sin-cos positions, a sinusoidal timestep embedder and a
/// class embedder with a null class, adaLN-Zero blocks and a final layer, then unpatchify. Tensor names are
/// facebookresearch/DiT's <c>models.py</c> names (<c>x_embedder.proj</c>, <c>t_embedder.mlp.0</c>,
/// <c>y_embedder.embedding_table</c>, <c>pos_embed</c>, <c>blocks.i.adaLN_modulation.1</c>,
/// <c>final_layer.linear</c>…), so a state dict maps one to one. The network knows nothing of diffusion:
/// it maps (x_t, t, labels) to an output of the image's shape (twice the channels with a learned variance).</summary>
public sealed class DiffusionTransformer : nn.Module<Tensor, Tensor, Tensor, Tensor>, IModel
{
    private readonly PatchEmbed x_embedder;
    private readonly TimestepEmbedder t_embedder;
    private readonly LabelEmbedder y_embedder;
    private readonly ModuleList<DitBlock> blocks;
    private readonly FinalLayer final_layer;

    public ModelConfig Config { get; }
    public DitConfig Architecture => (DitConfig)Config;

    public DiffusionTransformer(DitConfig config) : base(nameof(DiffusionTransformer))
    {
        Config = config.Validate();
        x_embedder = new PatchEmbed(config.ImageSize, config.PatchSize, config.Channels, config.Width);
        t_embedder = new TimestepEmbedder(config.Width);
        y_embedder = new LabelEmbedder(config.Classes, config.Width, config.ClassDropout);
        blocks = new ModuleList<DitBlock>(Enumerable.Range(0, config.Depth).Select(_ => new DitBlock(config.Width, config.Heads, config.MlpRatio, config.Linears)).ToArray());
        gate = config.Linears?.Gate;
        final_layer = new FinalLayer(config.Width, config.PatchSize, config.OutChannels);
        // Fixed positions: a buffer, saved in the state dict as DiT's frozen parameter is, never trained.
        register_buffer("pos_embed", SinCos2d(config.Width, config.ImageSize / config.PatchSize).unsqueeze(0));
        RegisterComponents();
        Initialize();
    }

    /// <summary>The tensors that train (<see cref="TrainedTensors"/>): a tuning method or a transfer sets it, and the
    /// rest get no gradient at all; null: every tensor. Saved in the model file's metadata, not its architecture.</summary>
    public string[]? TrainOnly
    {
        get => trainOnly;
        set
        {
            trainOnly = value;
            Training.TrainedTensors.Apply(this, value);
        }
    }

    string[]? trainOnly;

    readonly ClassGate? gate;

    public IReadOnlyList<DitBlock> Blocks => blocks.ToList();
    public LabelEmbedder LabelEmbedder => y_embedder;

    Tensor PosEmbed => named_buffers().Single(b => b.name == "pos_embed").buffer;

    /// <summary>DiT's <c>initialize_weights</c>: Xavier-uniform linears with zero biases, the patch embedding
    /// as a linear, N(0, 0.02) label table and timestep MLP, and zeroed adaLN modulations and final linear
    /// (so a fresh block is the identity and a fresh model outputs zeros).</summary>
    void Initialize()
    {
        using var _ = torch.no_grad();
        foreach (var m in modules().OfType<Linear>())
        {
            nn.init.xavier_uniform_(m.weight!);
            m.bias?.zero_();
        }
        foreach (var m in modules().OfType<BlockLinear>()) m.InitializeFresh();
        var w = x_embedder.Projection.weight!;
        nn.init.xavier_uniform_(w.view(w.shape[0], -1));
        x_embedder.Projection.bias?.zero_();
        nn.init.normal_(y_embedder.Table.weight!, std: 0.02);
        t_embedder.InitializeMlp();
        foreach (var b in blocks) b.ZeroModulation();
        final_layer.Zero();
    }

    public override Tensor forward(Tensor x, Tensor t, Tensor labels) => Forward(x, t, labels, null);

    /// <summary>The forward pass with the labels to drop to the null class given (<paramref name="drop"/>, a
    /// boolean mask) instead of drawn in training.</summary>
    public Tensor Forward(Tensor x, Tensor t, Tensor labels, Tensor? drop)
    {
        var c = Architecture;
        var h = x_embedder.forward(x) + PosEmbed;
        labels = y_embedder.Dropped(labels, training, drop);
        var cond = t_embedder.forward(t) + y_embedder.Embed(labels);
        // KIND: each sample's class switches on its tailor components (a dropped label, the null class's: the learngenes, and its own block if it has one).
        var gates = gate?.Of(labels);
        foreach (var block in blocks)
        {
            if (torch.is_grad_enabled()) { h = block.forward(h, cond, gates); continue; }
            // Without gradients nothing needs a block's intermediates once it is done: freed per block, an
            // inference pass holds one block's, not every block's until the caller's dispose scope closes.
            using var scope = torch.NewDisposeScope();
            h = block.forward(h, cond, gates).MoveToOuterDisposeScope();
        }
        h = final_layer.forward(h, cond); // [N, T, p·p·C]
        int grid = c.ImageSize / c.PatchSize, p = c.PatchSize;
        return h.reshape(h.shape[0], grid, grid, p, p, c.OutChannels).permute(0, 5, 1, 3, 2, 4).reshape(h.shape[0], c.OutChannels, grid * p, grid * p);
    }

    /// <summary>One denoising pass for one image: embeddings, blocks (attention, MLP, adaLN), final layer.</summary>
    public long MacsPerImage() => MacsPerImage(deployed: false);

    /// <summary>The same, with each block linear as deployed (<see cref="BlockLinear.DeployedMacs"/>).</summary>
    public long MacsPerImage(bool deployed)
    {
        var c = Architecture;
        long n = x_embedder.NumPatches, w = c.Width;
        long embed = n * c.Channels * c.PatchSize * c.PatchSize * w + TimestepEmbedder.Frequencies * w + w * w;
        long linears = blocks[0].Linears.Sum(l => deployed ? l.DeployedMacs : l.Macs);
        long perBlock = n * linears + 2 * n * n * w + w * 6 * w;
        return embed + c.Depth * perBlock + w * 2 * w + n * w * c.PatchSize * c.PatchSize * c.OutChannels;
    }

    /// <summary>The regularizer its form asks for (KIND's orthogonality penalty when weighted), else null.</summary>
    public Tensor? Penalty()
    {
        if (Architecture.Linears is not SvdForm { Orthogonality: > 0 } form) return null;
        Tensor? sum = null;
        foreach (var layer in blocks.SelectMany(b => b.Linears).OfType<SvdLinear>())
            sum = sum is null ? layer.OrthogonalityPenalty() : sum + layer.OrthogonalityPenalty();
        return sum! * form.Orthogonality;
    }

    /// <summary>MAE's 2-D sin-cos table (DiT's <c>get_2d_sincos_pos_embed</c>): half the width encodes the row,
    /// half the column, each as [sin, cos] of position·10000^(−2i/d).</summary>
    public static Tensor SinCos2d(int width, int grid)
    {
        int half = width / 2;
        var table = new float[grid * grid * width];
        for (int row = 0; row < grid; row++)
            for (int col = 0; col < grid; col++)
            {
                int token = row * grid + col;
                // DiT meshes (w, h) and encodes grid[0] (the column) first, then grid[1] (the row).
                Fill(table, token * width, half, col);
                Fill(table, token * width + half, half, row);
            }
        return torch.tensor(table, [grid * grid, width]);

        static void Fill(float[] table, int offset, int dim, int position)
        {
            int d2 = dim / 2;
            for (int i = 0; i < d2; i++)
            {
                double angle = position / Math.Pow(10000, (double)i / d2);
                table[offset + i] = (float)Math.Sin(angle);
                table[offset + d2 + i] = (float)Math.Cos(angle);
            }
        }
    }
}
