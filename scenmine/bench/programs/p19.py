# bus in bus lane (refav_parity program p19)
description = 'bus in bus lane'
buses = get_objects_of_category(log_dir, category='BUS')
buses_in_bus_lane = on_lane_type(buses, log_dir, lane_type='BUS')
output_scenario(buses_in_bus_lane, description, log_dir, output_dir)
