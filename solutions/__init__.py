"""Reference solutions to the course exercises (for instructors and tests). Learners: try first!"""
