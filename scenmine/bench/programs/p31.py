# vehicle on the opposite side of the road from the ego vehicle (refav_parity program p31)
description = 'vehicle on the opposite side of the road from the ego vehicle'
ego_vehicle = get_objects_of_category(log_dir, category='EGO_VEHICLE')
vehicles = get_objects_of_category(log_dir, category='VEHICLE')
opposite_side_vehicles = on_relative_side_of_road(vehicles, ego_vehicle, log_dir, side='opposite')
output_scenario(opposite_side_vehicles, description, log_dir, output_dir)
