"""School classes: a teacher's team of children with teacher-made accounts."""
