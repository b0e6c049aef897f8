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
        var cmd = new Command("eval", "Test accuracy and loss of a model file on a data set's test split.");
        cmd.Arguments.Add(file);
        foreach (var o in new Option[] { data, dataDir, limit, threads }) cmd.Options.Add(o);
        cmd.SetAction(r =>
        {
            Shared.SetThreads(r.GetValue(threads));
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
