"""Use-case services. Each public method is one unit of work and returns plain DTOs."""
