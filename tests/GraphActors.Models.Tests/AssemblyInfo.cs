// Torch's random generator is process-wide and almost every test here seeds it (manual_seed) before building a
// model: run the classes one at a time so no other test draws from it between the seed and the initialisation.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
