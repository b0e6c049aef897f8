using Learngene.Models;
using static TorchSharp.torch;

namespace Learngene.Genes;

/// <summary>What the runner and the CLI know of a learngene method: build the auxiliary model to train,
/// read its learngene tensors, and expand a learngene into a descendant. A new method is one folder
/// implementing this and one line in <see cref="Methods"/>.</summary>
public interface ILearngeneMethod
{
    string Name { get; }
    string Description { get; }

    /// <summary>The auxiliary model whose trained weights are the learngene.</summary>
    Classifier CreateAuxiliary(ModelConfig architecture);

    /// <summary>The tensors to store, from a trained auxiliary model.</summary>
    Dictionary<string, Tensor> Extract(Classifier auxiliary);

    /// <summary>A descendant of the given depth and class count, initialized from the learngene. The head
    /// is copied only when <paramref name="sameLabelSpace"/> (and the class count matches); else it is fresh.</summary>
    VisionTransformer Expand(LearngeneFile.Loaded gene, int depth, int classes, bool sameLabelSpace = true);

    /// <summary>Parameters stored in the learngene file (the learngene plus shared pieces).</summary>
    long StoredParameters(LearngeneFile.Loaded gene) => gene.Tensors.Values.Sum(t => t.numel());
}

public static class Methods
{
    public static readonly IReadOnlyList<ILearngeneMethod> All = [new Tleg.TlegMethod()];

    public static ILearngeneMethod Find(string name) =>
        All.FirstOrDefault(m => m.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
        ?? throw new LearngeneException($"unknown learngene method '{name}' (known: {string.Join(", ", All.Select(m => m.Name))})");
}
