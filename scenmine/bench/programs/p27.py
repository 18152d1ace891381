# vehicle heading toward the ego vehicle (refav_parity program p27)
description = 'vehicle heading toward the ego vehicle'
ego_vehicle = get_objects_of_category(log_dir, category='EGO_VEHICLE')
vehicles = get_objects_of_category(log_dir, category='VEHICLE')
vehicles_heading_to_ego = heading_toward(vehicles, ego_vehicle, log_dir)
output_scenario(vehicles_heading_to_ego, description, log_dir, output_dir)
