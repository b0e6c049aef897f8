// Learngene from C#: train a teacher, learn a TLEG learngene from it, expand the learngene into a descendant of a
// depth the auxiliary model never had, and fine-tune that descendant on another data set. Every step runs at the
// smoke budget (seconds on a laptop CPU); each writes an ordinary run folder under the given output folder.
using Learngene.Data;
using Learngene.Methods;
using Learngene.Models;
using Learngene.Runs;
using Learngene.Training;

string output = args.Length > 0 ? args[0] : Path.Combine(Path.GetTempPath(), "learngene-sample");
if (Directory.Exists(output)) Directory.Delete(output, recursive: true);
var data = new DataCache(new DataCatalog(null)); // the data cache of the CLI: ~/.cache/learngene/data
var smoke = TrainPresets.Registry.Find("smoke");

// 1. A teacher: a small ResNet on Fashion-MNIST.
var teacher = TrainRun.Start(new RunSpec
{
    Data = "fashion-mnist", Model = ModelPresets.Registry.Find("resnet-smoke").Config,
    Options = smoke.Options, TrainLimit = smoke.TrainLimit, TestLimit = smoke.TestLimit,
}, Path.Combine(output, "teacher"), data);
Console.WriteLine($"teacher: {teacher.Final.TestAccuracy:P1} on Fashion-MNIST");

// 2. The TLEG learngene: the method sets the auxiliary model (depth 12, base and slope per block tensor) and the
//    authors' distillation; the run distils the teacher into it and writes learngene.safetensors.
var tleg = LearngeneMethods.FindAuxiliary("tleg");
var family = ModelPresets.Registry.Find("vit-smoke").Vit;
var (auxiliary, settings, recipe) = tleg.LearnSpec(family, depth: null, new Dictionary<string, string>(), smoke.Options);
var learned = TrainRun.Start(new RunSpec
{
    Data = "fashion-mnist", Model = auxiliary, Options = recipe, TrainLimit = smoke.TrainLimit, TestLimit = smoke.TestLimit,
    Teacher = teacher.ModelPath, Method = tleg.Name, MethodSettings = settings,
}, Path.Combine(output, "learngene"), data);
string genePath = Path.Combine(learned.RunDir, TrainRun.GeneName);
Console.WriteLine($"TLEG auxiliary model (depth {((VitConfig)learned.Model).Depth}): {learned.Final.TestAccuracy:P1}");

// 3. A descendant of depth 5, with a fresh head for MNIST's labels, written as an ordinary model file.
var expanded = ExpandRun.FromGene(genePath, depths: [5], layerSources: null, classes: 10, width: null, freshHead: true, seed: 0,
    Path.Combine(output, "descendants"));
Console.WriteLine($"descendant: depth {expanded.Files[0].Depth}, {expanded.Files[0].Parameters:N0} parameters, " +
                  $"from a learngene of {expanded.StoredParameters:N0} stored parameters");

// 4. Fine-tune it on MNIST.
var descendant = TrainRun.Start(new RunSpec
{
    Data = "mnist", Init = expanded.Files[0].Path, Options = smoke.Options, TrainLimit = smoke.TrainLimit, TestLimit = smoke.TestLimit,
}, Path.Combine(output, "descendant-mnist"), data);
Console.WriteLine($"descendant after one epoch on MNIST: {descendant.Final.TestAccuracy:P1}");
