using Learngene.Models;
using static TorchSharp.torch;

namespace Learngene.Genes;

/// <summary>What the runner and the CLI know of a learngene method: build the auxiliary model to train,
/// read its learngene tensors, and expand a learngene into a descendant. A new method is one folder
/// implementing this and one line in <see cref="Methods"/>.</summary>
public interface ILearngeneMethod : INamed
{
    /// <summary>The auxiliary depth the paper uses (TLEG 12, SWS 16).</summary>
    int DefaultAuxiliaryDepth { get; }

    /// <summary>The auxiliary model whose trained weights are the learngene; <paramref name="settings"/> is
    /// the method's own JSON (SWS: the stage layout), null for the defaults.</summary>
    Classifier CreateAuxiliary(ModelConfig architecture, string? settings = null);

    /// <summary>The method's settings of a built auxiliary model, stored in the learngene's metadata.</summary>
    string SettingsOf(Classifier auxiliary) => "{}";

    /// <summary>The tensors to store, from a trained auxiliary model.</summary>
    Dictionary<string, Tensor> Extract(Classifier auxiliary);

    /// <summary>A descendant of the given depth and class count, initialized from the learngene. The head
    /// is copied only when <paramref name="sameLabelSpace"/> (and the class count matches); else it is fresh.
    /// <paramref name="layerSources"/> is an explicit layer mapping, for methods that take one (SWS).</summary>
    VisionTransformer Expand(LearngeneFile.Loaded gene, int depth, int classes, bool sameLabelSpace = true, int[]? layerSources = null);

    /// <summary>Parameters stored in the learngene file (the learngene plus shared pieces).</summary>
    long StoredParameters(LearngeneFile.Loaded gene) => gene.Tensors.Values.Sum(t => t.numel());
}

public static class Methods
{
    public static readonly Registry<ILearngeneMethod> Registry = new("learngene method", [new Tleg.TlegMethod(), new Sws.SwsMethod()]);
}
