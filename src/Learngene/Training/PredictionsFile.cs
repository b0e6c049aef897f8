using Learngene.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Training;

/// <summary>predictions.safetensors in a run folder: the test labels (<c>labels</c>) and, per evaluated epoch
/// and metric, each test image's predicted class (<c>epoch.E/METRIC</c>, int32, in the test set's order). The
/// per-image record behind every paired comparison; the results keep only whether each image was right.</summary>
public static class PredictionsFile
{
    public const string FileName = "predictions.safetensors";

    /// <summary>Adds (or replaces, after a resume) one epoch's predictions.</summary>
    public static void Add(string runDir, int epoch, TestPredictions predictions)
    {
        string path = Path.Combine(runDir, FileName);
        var tensors = File.Exists(path) ? SafeTensors.Load(path).Tensors : new Dictionary<string, Tensor>();
        try
        {
            foreach (var stale in tensors.Keys.Where(k => k.StartsWith($"epoch.{epoch}/", StringComparison.Ordinal) || k == "labels").ToList())
            {
                tensors[stale].Dispose();
                tensors.Remove(stale);
            }
            tensors["labels"] = torch.tensor(predictions.Labels, dtype: ScalarType.Int32);
            foreach (var (metric, predicted) in predictions.Predicted) tensors[$"epoch.{epoch}/{metric}"] = torch.tensor(predicted, dtype: ScalarType.Int32);
            SafeTensors.Save(path, tensors);
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    /// <summary>The labels and one epoch's predictions of a metric.</summary>
    public static (int[] Labels, int[] Predicted) Read(string runDir, int epoch, string metric = "accuracy")
    {
        string path = Path.Combine(runDir, FileName);
        var (tensors, _) = SafeTensors.Load(path);
        try
        {
            if (!tensors.TryGetValue($"epoch.{epoch}/{metric}", out var p) || !tensors.TryGetValue("labels", out var l))
                throw new LearngeneException($"{path} holds no predictions for {metric} after epoch {epoch}");
            return (l.data<int>().ToArray(), p.data<int>().ToArray());
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }
}
