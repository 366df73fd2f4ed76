"""Rural motorcycle-inspection tours (流动车管所下乡): plan, route, publish, pre-register, report."""
