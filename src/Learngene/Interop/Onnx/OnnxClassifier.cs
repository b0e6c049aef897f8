using Learngene.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Interop.Onnx;

/// <summary>An exported classifier run by ONNX Runtime: pixels in [0, 1] in, logits out. Its image size,
/// channels and classes are read from the graph's declared input and output.</summary>
public sealed class OnnxClassifier : IDisposable
{
    readonly InferenceSession session;
    public int Channels { get; }
    public int ImageSize { get; }
    public int Classes { get; }

    public OnnxClassifier(string path, int threads = 0)
    {
        if (!File.Exists(path)) throw new LearngeneException($"file not found: {path}");
        using var options = new SessionOptions();
        if (threads > 0) { options.IntraOpNumThreads = threads; options.InterOpNumThreads = 1; }
        try { session = new InferenceSession(path, options); }
        catch (OnnxRuntimeException e) { throw new LearngeneException($"{path} is not an ONNX model ONNX Runtime can load: {e.Message.Split('\n')[0]}"); }
        if (!session.InputMetadata.TryGetValue("images", out var input) || input.Dimensions.Length != 4
            || !session.OutputMetadata.TryGetValue("logits", out var output) || output.Dimensions.Length != 2)
        {
            session.Dispose();
            throw new LearngeneException($"{path} is not an exported classifier (input 'images' N×C×H×W, output 'logits' N×K)");
        }
        (Channels, ImageSize, Classes) = (input.Dimensions[1], input.Dimensions[2], output.Dimensions[1]);
    }

    /// <summary>Logits [N, K] for images [N, C, H, W] in [0, 1].</summary>
    public float[] Run(float[] images, int count)
    {
        var tensor = new DenseTensor<float>(images, [count, Channels, ImageSize, ImageSize]);
        try
        {
            using var results = session.Run([NamedOnnxValue.CreateFromTensor("images", tensor)]);
            return results.First(r => r.Name == "logits").AsEnumerable<float>().ToArray();
        }
        // A graph that loads can still fail on data (an index out of range in a damaged file): one clear line.
        catch (OnnxRuntimeException e) { throw new LearngeneException($"ONNX Runtime could not run the model: {e.Message.Split('\n')[0]}"); }
    }

    /// <summary>Cross-entropy and accuracy on a data set (its images already at this size and channel count).</summary>
    public (double Loss, double Accuracy) Evaluate(ImageDataset data, int batchSize = 500)
    {
        double lossSum = 0;
        long correct = 0;
        for (int start = 0; start < data.Count; start += batchSize)
        {
            using var scope = torch.NewDisposeScope();
            int n = Math.Min(batchSize, data.Count - start);
            var pixels = data.Images.narrow(0, start, n).to_type(ScalarType.Float32).div_(255f).contiguous();
            var logits = torch.tensor(Run(pixels.data<float>().ToArray(), n), [n, Classes]);
            var labels = data.Labels.narrow(0, start, n);
            lossSum += nn.functional.cross_entropy(logits, labels, reduction: nn.Reduction.Sum).item<float>();
            correct += logits.argmax(1).eq(labels).sum().item<long>();
        }
        return (lossSum / Math.Max(1, data.Count), (double)correct / Math.Max(1, data.Count));
    }

    public void Dispose() => session.Dispose();
}
