using Learngene.Data;
using Learngene.Methods;
using Learngene.Models;
using Learngene.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Baselines.Initializers;

/// <summary>Auto-LG (Learngene, 2023): the learngene is the ancestry layers whose representations stay
/// most similar in a pseudo descendant. Here the pseudo descendant is a copy of the ancestry briefly
/// adapted to the descendant's task (one pass over at most <see cref="AdaptImages"/> training images,
/// AdamW lr 1e-3, fresh head for a new label space); each block is scored by linear CKA between what it
/// adds to the residual stream (its output minus its input, averaged over tokens) in the two models, on
/// <see cref="ProbeImages"/> training images drawn with the next seed (they may overlap the adaptation images). (Scoring the residual stream itself gives CKA ≈ 0.999 for every
/// block, since the stream carries everything below it: no ranking at all.) The k best blocks
/// (k = --inherit, default 3), in ancestry order, become the descendant's last k blocks over random
/// layers, as in <see cref="HeurLg"/>. The ranking is computed once per context and reused for every depth.</summary>
public sealed class AutoLg(int layers = 3) : IInitializer
{
    /// <summary>The k best-ranked ancestry blocks it keeps.</summary>
    public int Layers => layers;
    public IReadOnlyList<Setting> Settings => [Initializers.Inherit];
    public IInitializer With(GivenSettings s) => new AutoLg(Initializers.InheritedLayers(s, layers));

    public const int AdaptImages = 2048;
    public const int ProbeImages = 256;
    public const double AdaptLearningRate = 1e-3;

    public string Name => "auto-lg";
    public string Description => "the k ancestry layers (default 3) whose representations change least when adapted to the task, by linear CKA (needs an ancestry and the task data)";
    public AncestryNeed Needs => AncestryNeed.Family;

    public MethodCosts Costs(CostContext c) => HeurLg.InheritedCosts(c, layers);

    public string Stores => HeurLg.InheritedStores;

    public string ScoresMeaning => "linear CKA of each ancestry block with its adapted copy";

    public VisionTransformer Create(VitConfig architecture, InitContext context)
    {
        var source = Initializers.AncestryVit(this, context);
        if (!context.Memo.TryGetValue(Name, out var memo)) context.Memo[Name] = memo = Similarities(source, context);
        var scores = (double[])memo;
        int k = Math.Min(Math.Min(layers, architecture.Depth), scores.Length);
        var best = Enumerable.Range(0, scores.Length).OrderByDescending(i => scores[i]).Take(k).Order().ToArray();
        return HeurLg.StackOnTop(architecture, source, best, context.SameLabelSpace);
    }

    /// <summary>Linear CKA per ancestry block between the ancestry and its adapted copy.</summary>
    public static double[] Similarities(VisionTransformer ancestry, InitContext context)
    {
        var data = context.Data ?? throw new LearngeneException("auto-lg needs the descendant task's training data to choose layers");
        var norm = context.Ancestry!.Normalization;
        var c = ancestry.Architecture;
        using var adapted = new VisionTransformer(c with { Classes = data.Classes, Channels = data.Channels, ImageSize = data.ImageSize });
        Inherit.Embeddings(adapted, ancestry);
        for (int i = 0; i < c.Depth; i++) Inherit.Block(adapted, i, ancestry, i);
        Inherit.Top(adapted, ancestry, context.SameLabelSpace && data.Classes == c.Classes);

        var adaptSet = data.Subset(Math.Min(AdaptImages, data.Count), context.Seed);
        var probeSet = data.Subset(Math.Min(ProbeImages, data.Count), context.Seed + 1);
        try { return Compare(ancestry, adapted, adaptSet, probeSet, norm, context.Seed); }
        finally
        {
            // Subset returns the data set itself when it asks for all of it: free only the copies.
            if (!ReferenceEquals(adaptSet, data)) adaptSet.Dispose();
            if (!ReferenceEquals(probeSet, data)) probeSet.Dispose();
        }
    }

    static double[] Compare(VisionTransformer ancestry, VisionTransformer adapted, ImageDataset adaptSet, ImageDataset probeSet, Normalization norm, int seed)
    {
        using (var optimizer = new AdamW(adapted, weightDecay: 0.05))
        {
            adapted.train();
            using var batches = new BatchLoader(adaptSet, norm, 64, shuffle: true, augment: false, seed, 0).Batches().GetEnumerator();
            while (true)
            {
                using var step = torch.NewDisposeScope(); // opened before the batch is made, so that it holds the batch too
                if (!batches.MoveNext()) break;
                var (images, labels) = batches.Current;
                optimizer.ZeroGrad();
                Losses.CrossEntropy(adapted.forward(images), labels).backward();
                optimizer.Update(AdaptLearningRate);
            }
        }
        using var _ = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        ancestry.eval();
        adapted.eval();
        var x = norm.Apply(probeSet.Images);
        var a = BlockFeatures(ancestry, x);
        var b = BlockFeatures(adapted, x);
        return a.Zip(b, LinearCka).ToArray();
    }

    static List<Tensor> BlockFeatures(VisionTransformer model, Tensor images)
    {
        var features = new List<Tensor>();
        var x = model.Embed(images);
        foreach (var block in model.Blocks)
        {
            var y = block.forward(x);
            features.Add((y - x).mean([1]).to(float64));
            x = y;
        }
        return features;
    }

    /// <summary>Linear CKA of two [samples, features] matrices: ‖YᵀX‖²_F / (‖XᵀX‖_F ‖YᵀY‖_F), centred.</summary>
    public static double LinearCka(Tensor x, Tensor y)
    {
        using var scope = torch.NewDisposeScope();
        x = x - x.mean([0], keepdim: true);
        y = y - y.mean([0], keepdim: true);
        double cross = y.t().matmul(x).pow(2).sum().item<double>();
        double xx = x.t().matmul(x).norm().item<double>(), yy = y.t().matmul(y).norm().item<double>();
        return cross / (xx * yy);
    }
}
