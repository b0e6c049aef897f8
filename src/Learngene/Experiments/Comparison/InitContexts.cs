using Learngene.Data;
using Learngene.Init;
using Learngene.IO;

namespace Learngene.Experiments.Comparison;

/// <summary>One task's initializer contexts: each ancestry model loaded once, and what an initializer
/// computes once per ancestry (Auto-LG's layer ranking) kept in its context's memo for every depth.</summary>
public sealed class InitContexts(string task, ComparePreset preset, int imageSize, int channels) : IDisposable
{
    readonly Dictionary<string, InitContext> contexts = [];
    readonly List<ImageDataset> adapted = [];

    /// <summary>The scores an initializer left under its name, if it ran on this task.</summary>
    public double[]? Scores(string method) =>
        contexts.Values.Select(c => c.Memo.GetValueOrDefault(method) as double[]).FirstOrDefault(s => s is not null);

    /// <summary>The initializer's view of the task: its images in the family's input shape.</summary>
    public InitContext For(string ancestryPath, ImageDataset train, int seed)
    {
        if (!contexts.TryGetValue(ancestryPath, out var c))
        {
            var data = train.Adapt(imageSize, channels);
            if (!ReferenceEquals(data, train)) adapted.Add(data);
            contexts[ancestryPath] = c = new InitContext
            {
                Ancestry = ModelFile.Load(ancestryPath), AncestryPath = ancestryPath, SameLabelSpace = task == "source",
                Data = data, InheritLayers = preset.InheritLayers, Seed = seed, WeightSelection = preset.WeightSelection,
            };
        }
        return c;
    }

    public void Dispose()
    {
        foreach (var c in contexts.Values) c.Ancestry?.Model.Dispose();
        foreach (var d in adapted) d.Dispose();
        Native.CollectGarbage();
    }
}
