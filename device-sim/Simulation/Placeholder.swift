// The Simulation module is written in its own change; this keeps the target buildable until then.
