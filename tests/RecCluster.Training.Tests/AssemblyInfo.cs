// Trials seed torch's process-wide generator (one trial per process in production), so tests that
// compare seeded runs must not interleave with other tests drawing random numbers.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
