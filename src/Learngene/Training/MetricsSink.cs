using System.Text.Json;
using Learngene.IO;
using Learngene.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Training;

/// <summary>metrics.jsonl (rewritten from the history on resume, so it never holds a lost epoch twice)
/// and TensorBoard event files under tb/, one scalar per named metric ("train/loss", "test/accuracy"…).</summary>
sealed class MetricsSink
{
    public const string FileName = "metrics.jsonl";

    readonly string path;
    readonly TorchSharp.Modules.SummaryWriter? board;

    public MetricsSink(string runDir, IEnumerable<EpochMetrics> history)
    {
        Directory.CreateDirectory(runDir);
        path = Path.Combine(runDir, FileName);
        AtomicFile.WriteAllText(path, string.Concat(history.Select(h => Line(h) + "\n")));
        try { board = torch.utils.tensorboard.SummaryWriter(Path.Combine(runDir, "tb")); }
        catch (Exception) { board = null; } // TensorBoard output is a convenience; never fail a run for it
    }

    static string Line(EpochMetrics m) => JsonSerializer.Serialize(m, ModelConfig.Json);

    public void Write(EpochMetrics m)
    {
        File.AppendAllText(path, Line(m) + "\n");
        if (board is null) return;
        foreach (var (name, value) in m.Train) board.add_scalar($"train/{name}", (float)value, m.Epoch);
        foreach (var (name, value) in m.Test) board.add_scalar($"test/{name}", (float)value, m.Epoch);
        board.add_scalar("lr", (float)m.LearningRate, m.Epoch);
        board.add_scalar("images_per_second", (float)m.ImagesPerSecond, m.Epoch);
    }

    /// <summary>Images ([C, H, W] in [0, 1]) under their tags, at this epoch.</summary>
    public void WriteImages(IReadOnlyDictionary<string, Tensor> images, int epoch)
    {
        if (board is null) return;
        foreach (var (tag, image) in images)
        {
            try { board.add_img(tag, image, epoch); }
            catch (Exception) { } // as above: an image TensorBoard cannot take is no reason to stop training
        }
    }
}
