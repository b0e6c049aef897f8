using Learngene.Data;
using Learngene.Experiments;
using Learngene.Experiments.Comparison;
using Learngene.Experiments.Planning;
using Learngene.IO;
using Learngene.Methods;
using Learngene.Models;
using Learngene.Reporting;
using Learngene.Runs;
using Learngene.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Learngene.Tests.Experiments;

/// <summary>A method and an objective that exist only here, plugged in through the registries: the run,
/// the trainer, the checkpoint, the comparison runner and the report take them without a line of src/
/// knowing them.</summary>
public class PluginTests
{
    /// <summary>A throwaway learngene method: the auxiliary model is a plain ViT, the learngene its last
    /// block (with the shared pieces), and a descendant repeats that block at every layer.</summary>
    sealed class RepeatLastBlock : IAuxiliaryMethod
    {
        public string Name => "repeat-last";
        public string Description => "test only: a descendant repeats the auxiliary model's last block";
        public int DefaultAuxiliaryDepth => 3;

        public Classifier CreateAuxiliary(VitConfig architecture, string? settings = null) => new VisionTransformer(architecture with { Pooling = "avg" });

        public Dictionary<string, Tensor> Extract(Classifier auxiliary)
        {
            var state = auxiliary.state_dict();
            int last = ((VitConfig)auxiliary.Config).Depth - 1;
            var kept = Inherit.SharedTensors.Concat(Inherit.HeadTensors).ToDictionary(n => n, n => state[n]);
            foreach (var n in Models.Layers.Block.TensorNames) kept["last." + n] = state[$"blocks.{last}.{n}"];
            return kept;
        }

        public Classifier Build(LearngeneFile.Loaded gene, DescendantSpec descendant, int classes, bool sameLabelSpace = true)
        {
            var model = new VisionTransformer(gene.Info.Architecture with { Depth = descendant.Depth, Classes = classes, Pooling = "avg" });
            var state = model.state_dict();
            using var _ = torch.no_grad();
            foreach (var n in Inherit.SharedTensors) Inherit.Tensor(state, n, gene.Get(n), gene.Path);
            if (sameLabelSpace && classes == gene.Info.Architecture.Classes)
                foreach (var n in Inherit.HeadTensors) Inherit.Tensor(state, n, gene.Get(n), gene.Path);
            for (int i = 0; i < descendant.Depth; i++)
                foreach (var n in Models.Layers.Block.TensorNames) Inherit.Tensor(state, $"blocks.{i}.{n}", gene.Get("last." + n), gene.Path);
            return model;
        }
    }

    /// <summary>A throwaway objective with a parameter of its own: cross-entropy on logits divided by a
    /// learned temperature, reported as a metric.</summary>
    sealed class TemperedCrossEntropy : IObjective
    {
        public static readonly ObjectiveFactory Factory = new("tempered", "test only: cross-entropy at a learned temperature", _ => new TemperedCrossEntropy());

        sealed class Temperature : nn.Module
        {
            public Parameter log_t = nn.Parameter(torch.zeros(1));
            public Temperature() : base("temperature") => RegisterComponents();
        }

        readonly Temperature own = new();
        public nn.Module? Own => own;

        public ObjectiveStep Step(nn.Module model, Tensor images, Tensor labels)
        {
            var logits = ((nn.Module<Tensor, Tensor>)model).forward(images) / own.log_t.exp();
            var loss = nn.functional.cross_entropy(logits, labels);
            long n = images.shape[0];
            return new ObjectiveStep(loss, n, new Dictionary<string, double>
            {
                ["loss"] = loss.item<float>() * n, ["accuracy"] = logits.argmax(1).eq(labels).sum().item<long>(), ["temperature"] = own.log_t.exp().item<float>() * n,
            });
        }

        public IReadOnlyDictionary<string, double> Evaluate(nn.Module model, ImageDataset data, Normalization norm, int batchSize, Device device)
        {
            var (loss, accuracy) = Training.Objectives.Classification.Evaluate((nn.Module<Tensor, Tensor>)model, data, norm, batchSize, device);
            using var t = own.log_t.detach().exp(); // freed here: a tensor left to the finalizer thread can corrupt libtorch's heap
            return new Dictionary<string, double> { ["loss"] = loss, ["accuracy"] = accuracy, ["temperature"] = t.item<float>() };
        }

        public void Dispose() => own.Dispose();
    }

    static RunSpec Tempered(int epochs) => new()
    {
        Data = "mnist", Model = ModelPresets.Registry.Find("vit-smoke").Vit with { ImageSize = 0 }, Objective = TemperedCrossEntropy.Factory.Name,
        Options = new TrainOptions { Epochs = epochs, BatchSize = 50, LearningRate = 3e-3, WarmupEpochs = 0.2, Augment = false }, TrainLimit = 300, TestLimit = 100,
    };

    [Fact]
    public void An_objective_registered_outside_the_library_trains_through_TrainRun_and_resumes_with_its_own_parameters()
    {
        ObjectiveRegistry.Registry.Add(TemperedCrossEntropy.Factory);
        try
        {
            var straight = TrainRun.Start(Tempered(2), TestData.TempDir(), TestData.Cache.Value);
            Assert.All(straight.History, h => Assert.Contains("temperature", h.Train.Keys));
            Assert.NotEqual(1.0, straight.Final.TestMetric("temperature"), 3); // it learned
            string metrics = File.ReadAllText(Path.Combine(straight.RunDir, Trainer.MetricsName));
            Assert.Contains("\"temperature\"", metrics);
            var (tensors, _) = SafeTensors.Load(Path.Combine(straight.RunDir, Trainer.CheckpointName));
            var saved = tensors.Keys.ToList();
            foreach (var t in tensors.Values) t.Dispose();
            Assert.Contains("objective/log_t", saved);
            Assert.Contains("optim/m/objective/log_t", saved);

            // Interrupted after its first epoch, then resumed: the same run as the uninterrupted one.
            string dir = TestData.TempDir();
            try { TrainRun.Start(Tempered(2), dir, TestData.Cache.Value, new StopAfterFirstEpoch()); } catch (OperationCanceledException) { }
            var resumed = TrainRun.Resume(dir, TestData.Cache.Value);
            Assert.Equal(straight.History.Select(h => h.Train), resumed.History.Select(h => h.Train));
            Assert.Equal(straight.Final.TestMetric("temperature"), resumed.Final.TestMetric("temperature"));
        }
        finally { ObjectiveRegistry.Registry.Remove(TemperedCrossEntropy.Factory.Name); }
    }

    sealed class StopAfterFirstEpoch : ITrainingObserver
    {
        public void EpochDone(EpochMetrics m) => throw new OperationCanceledException();
    }

    [Fact]
    public void A_method_registered_outside_the_library_is_learned_expanded_compared_and_reported_by_the_runner()
    {
        var method = LearngeneMethods.Registry.Add(new RepeatLastBlock());
        try
        {
            var preset = ComparePreset.Registry.Find("smoke") with { Depths = [1, 3], TrainLimit = 300, TestLimit = 100, TeacherTrainLimit = 300, AuxiliaryTrainLimit = 300 };
            string dir = TestData.TempDir();
            var r = new CompareExperiment(preset, ["repeat-last", "scratch"], 1, dir, TestData.Cache.Value, _ => { }).Run();
            Assert.Equal("repeat-last-auxiliary", r.Learngenes["repeat-last"].Method);
            foreach (var task in new[] { "source", "transfer" })
                foreach (int d in preset.Depths)
                    Assert.InRange(r.Cells.Single(c => c.Task == task && c.Method == "repeat-last" && c.Depth == d).FinalAccuracy, 0.0, 1.0);
            using (var gene = LearngeneFile.Load(Path.Combine(dir, r.Learngenes["repeat-last"].ModelPath), "repeat-last"))
                Assert.Equal(gene.Tensors.Values.Sum(t => t.numel()), r.StoredParameters["repeat-last"]);
            Assert.True(r.PretrainFlops["repeat-last"] > 0);
            string report = File.ReadAllText(CompareReport.Write(dir, r));
            Assert.Contains("| repeat-last |", report);
            Assert.Contains("REPEAT-LAST auxiliary model", report);
            // learn, expand and inspect reach it through the method contract, as they reach the four built in.
            string genePath = Path.Combine(dir, r.Learngenes["repeat-last"].ModelPath);
            Assert.Same(method, LearngeneMethods.OfFile(genePath));
            var learned = method.Learn(new LearnRequest(Path.Combine(dir, "learned"), new GivenSettings(new Dictionary<string, string>
            {
                ["preset"] = "smoke", ["teacher"] = Path.Combine(dir, r.Teacher.ModelPath), ["train-limit"] = "200", ["test-limit"] = "100", ["epochs"] = "1",
            }), TestData.Cache.Value, _ => { }));
            Assert.Same(method, LearngeneMethods.OfFile(learned.GenePath));
            Assert.Contains(method.LearnSettings, s => s.Name == "teacher");
            var expansion = method.Expand(genePath, new ExpandRequest(Path.Combine(dir, "expanded"), new Dictionary<string, string> { ["depths"] = "2,4" }));
            Assert.Equal(["depth  2", "depth  4"], expansion.Files.Select(f => f.Label));
            Assert.All(expansion.Files, f => Assert.True(File.Exists(f.Path), f.Path));
            Assert.Contains("learngene (repeat-last)", method.Describe(genePath)[0]);
            // report finds the comparison by its results, as for every experiment.
            File.Delete(Path.Combine(dir, "report.md"));
            var (code, output, err) = CliTests.Run("report", dir);
            Assert.True(code == 0, err);
            Assert.Contains("report: ", output);
            Assert.Contains("| repeat-last |", File.ReadAllText(Path.Combine(dir, "report.md")));
        }
        finally { LearngeneMethods.Registry.Remove(method.Name); }
    }

    public sealed record CoinResults(int Heads, int Tosses);

    public sealed record CoinPreset(string Name, string Description) : INamed;

    [Fact]
    public void An_experiment_registered_outside_the_library_is_found_by_its_results_and_reported()
    {
        string dir = TestData.TempDir();
        ExperimentFolder.SaveResults(dir, new CoinResults(7, 10));
        var coin = ExperimentRegistry.Registry.Add(new Experiment<CoinResults>("coin", "a throwaway experiment", d => ExperimentFolder.ResultsHave(d, "tosses"),
            (d, r) => { string path = Path.Combine(d, "report.md"); File.WriteAllText(path, $"{r.Heads} heads in {r.Tosses} tosses"); return path; },
            r => [new Check("more heads than tails", r.Heads * 2 > r.Tosses, $"{r.Heads} of {r.Tosses}")],
            [new CoinPreset("smoke", "one tiny classifier")],
            (preset, _) => new ExperimentRun(preset, "tossing", [],
                () => [new PlannedCell("toss", new RunSpec { Data = "mnist", Model = new VitConfig { Width = 16, Depth = 1, Heads = 2, PatchSize = 7 }, Options = new TrainOptions { BatchSize = 8 } })],
                (dir, _, _) =>
                {
                    ExperimentFolder.SaveResults(dir, new CoinResults(3, 4));
                    return RunOutcome.OfChecks(ExperimentRegistry.OfFolder(dir).WriteReport(dir), ExperimentRegistry.OfFolder(dir).Checks(dir));
                })));
        try
        {
            Assert.Same(coin, ExperimentRegistry.OfFolder(dir));
            Assert.Equal("7 heads in 10 tosses", File.ReadAllText(ExperimentRegistry.OfFolder(dir).WriteReport(dir)));
            Assert.Single(coin.Checks(dir));
            // Its plan dry-runs, and it runs and reports, like any experiment's.
            var row = Assert.Single(DryRun.Execute(coin.Plan(coin.Presets[0].Name)));
            Assert.Equal(["toss"], row.Cells);
            Assert.Null(row.Error);
            Assert.Contains("28x28x1, 10 classes", row.Model);
            string other = TestData.TempDir();
            var outcome = coin.Configure("smoke", GivenSettings.None).Execute(other, new DataCache(new DataCatalog(TestData.TempDir())), _ => { });
            Assert.Equal("3 heads in 4 tosses", File.ReadAllText(outcome.Report));
            Assert.Equal(["met — more heads than tails: 3 of 4"], outcome.Lines);
        }
        finally { ExperimentRegistry.Registry.Remove("coin"); }
        Assert.Throws<LearngeneException>(() => ExperimentRegistry.OfFolder(dir)); // no known experiment's results
        Assert.Throws<LearngeneException>(() => ExperimentRegistry.OfFolder(TestData.TempDir())); // no results at all
    }
}
