using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Learngene.Models.Layers;

/// <summary>DiT's class embedder (<c>embedding_table</c>): one row per class plus, when labels are dropped in
/// training (classifier-free guidance), a last row for "no class". In training each label becomes the null
/// class with the dropout probability, or where a given mask says so (DiT's <c>force_drop_ids</c>: a caller
/// that draws the mask from its own generator makes training reproducible).</summary>
public sealed class LabelEmbedder : nn.Module<Tensor, bool, Tensor>
{
    private readonly Embedding embedding_table;
    private readonly int classes;
    private readonly double dropout;

    public LabelEmbedder(int classes, int width, double dropout) : base(nameof(LabelEmbedder))
    {
        embedding_table = nn.Embedding(classes + (dropout > 0 ? 1 : 0), width);
        this.classes = classes;
        this.dropout = dropout;
        RegisterComponents();
    }

    public Embedding Table => embedding_table;

    public override Tensor forward(Tensor labels, bool train) => Forward(labels, train, null);

    public Tensor Forward(Tensor labels, bool train, Tensor? drop) => Embed(Dropped(labels, train, drop));

    /// <summary>The labels with the dropped ones replaced by the null class.</summary>
    public Tensor Dropped(Tensor labels, bool train, Tensor? drop)
    {
        if (drop is not null) return torch.where(drop, torch.full_like(labels, classes), labels);
        if (train && dropout > 0)
            return torch.where(torch.rand(labels.shape[0], device: labels.device) < dropout, torch.full_like(labels, classes), labels);
        return labels;
    }

    public Tensor Embed(Tensor labels) => embedding_table.forward(labels);
}
