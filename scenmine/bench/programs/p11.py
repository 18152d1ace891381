# ego vehicle being overtaken on right by a semi (refav_parity program p11)
description = 'ego vehicle being overtaken on right by a semi'
vehicles = get_objects_of_category(log_dir, category='EGO_VEHICLE')
semi = get_objects_of_category(log_dir, category='TRUCK_CAB')
moving_vehicles = scenario_not(stationary)(vehicles, log_dir)
#defining overtaking to be within 10m of the front and back of the vehicle
overtaken_on_right = being_crossed_by(moving_vehicles, semi, log_dir, direction='right', forward_thresh=5, lateral_thresh=10)
output_scenario(overtaken_on_right, description, log_dir, output_dir)
