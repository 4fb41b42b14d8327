"""System: what every stage needs from the operating system: paths confined to the project, atomic replacement
of output folders, worker processes that die with their parent, and a terminal progress line."""
