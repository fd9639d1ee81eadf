"""Work orders at the counter: intake, the order editor with live totals, and the list of orders."""
