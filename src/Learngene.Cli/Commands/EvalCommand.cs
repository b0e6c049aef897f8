using System.CommandLine;
using Learngene.Data;
using Learngene.IO;
using Learngene.Training;

namespace Learngene.Cli;

static class EvalCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("MODEL") { Description = "A model file (model.safetensors)" };
        var data = Shared.Data();
        var dataDir = Shared.DataDir();
        var limit = new Option<int?>("--test-limit") { Description = "Evaluate at most this many test images" };
        var threads = Shared.Threads();
        var runtime = new Option<string>("--runtime")
        {
            Description = "torch (a Learngene model file, TorchSharp) or onnx (an exported .onnx graph, ONNX Runtime)",
            DefaultValueFactory = _ => "torch",
        };
        runtime.AcceptOnlyFromAmong("torch", "onnx");
        var cmd = new Command("eval", "Test accuracy and loss of a model file (or an exported ONNX graph, --runtime onnx) on a data set's test split.");
        cmd.Arguments.Add(file);
        foreach (var o in new Option[] { data, dataDir, limit, threads, runtime }) cmd.Options.Add(o);
        cmd.SetAction(r =>
        {
            Shared.SetThreads(r.GetValue(threads));
            if (r.GetValue(runtime) == "onnx")
            {
                using var onnx = new Learngene.Interop.Onnx.OnnxClassifier(r.GetValue(file)!, r.GetValue(threads));
                var s = DataSource.Load(r.GetValue(data)!, Shared.Catalog(r, dataDir), onnx.ImageSize);
                if (s.Test.Classes != onnx.Classes)
                    throw new LearngeneException($"the model has {onnx.Classes} classes but {s.Name} has {s.Test.Classes}");
                var t = s.Test.Adapt(onnx.ImageSize, onnx.Channels);
                if (r.GetValue(limit) is int m) t = t.Subset(m, 0);
                var (l, a) = onnx.Evaluate(t);
                Console.WriteLine($"{s.Name} test (ONNX Runtime): accuracy {a * 100:F2}%  loss {l:F4}  ({t.Count} images)");
                return 0;
            }
            var loaded = ModelFile.Load(r.GetValue(file)!);
            var c = loaded.Model.Config;
            var splits = DataSource.Load(r.GetValue(data)!, Shared.Catalog(r, dataDir), c.ImageSize);
            if (splits.Test.Classes != c.Classes)
                throw new LearngeneException($"the model has {c.Classes} classes but {splits.Name} has {splits.Test.Classes}");
            var test = splits.Test.Adapt(c.ImageSize, c.Channels);
            if (r.GetValue(limit) is int n) test = test.Subset(n, 0);
            var (loss, acc) = Learngene.Training.Objectives.Classification.Evaluate(loaded.Model, test, loaded.Normalization);
            Console.WriteLine($"{splits.Name} test: accuracy {acc * 100:F2}%  loss {loss:F4}  ({test.Count} images)");
            return 0;
        });
        return cmd;
    }
}
